/** The built-in demo scenario (format version 1). */

/**
 * The scenario `kiln simulate` runs without `--scenario`: the monthly rebuild timer fires at 03:00 on
 * the first of the month, both images are built, replicated to two regions and rolled out canary
 * first, while hygiene clears ghosts, leaves foreign registrations and the unmanaged scale set alone,
 * waits for a busy runner, rides out a GitHub 500 and keeps the version the unmanaged set still uses.
 */
export const BUILT_IN_DEMO_SCENARIO = `# kiln simulate's built-in demo (format version 1)
version: 1
name: demo-monthly-rebuild
start: 2026-12-01T02:55:00Z     # five minutes before the monthly rebuild timer
until: 2026-12-02T02:55:00Z
gallery:
  regions: [westeurope, northeurope]
  existingVersions:
    linux: [2026.9.1, 2026.10.1]
    windows: [2026.10.1]
scaleSets:
  - { name: vmss-gh-linux-weu, image: linux, region: westeurope, capacity: 4, canary: true }
  - { name: vmss-gh-linux-neu, image: linux, region: northeurope, capacity: 3 }
  - { name: vmss-ado-win-weu, image: windows, region: westeurope, capacity: 2, canary: true }
  # another team's fleet: still on 2026.9.1, outside kiln's scope
  - { name: vmss-gh-legacy-weu, image: linux, region: westeurope, capacity: 2, version: 2026.9.1, managed: false }
jobs:
  - { instance: vmss-gh-linux-neu_1, minutes: 150 }                          # keeps one runner busy
  - { instance: vmss-ado-win-weu_0, minutes: 40, startAfterMinutes: 120 }    # starts mid-run
ghosts: { github: 6, ado: 2 }
foreign: { github: 3, ado: 1 }
faults:
  - { service: github, operation: deleteRunner, status: 500, times: 1 }
`;
