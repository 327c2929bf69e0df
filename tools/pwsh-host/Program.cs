// Entry point of the PowerShell host: hands the command line to PowerShell's own console shell, so
// every pwsh switch (-NoProfile, -NonInteractive, -File, -Command, exit codes) works unchanged.
using System;
using Microsoft.PowerShell;

internal static class Program
{
    private static int Main(string[] args)
    {
        return ConsoleShell.Start(bannerText: string.Empty, helpText: string.Empty, args: args);
    }
}
