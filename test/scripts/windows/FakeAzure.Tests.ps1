# The fake IMDS / Key Vault must reject what the real services reject, or the bootstrap tests prove
# nothing: these tests talk to it directly.

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $script:Fake = Start-FakeAzure
    Invoke-FakeControl -Fake $script:Fake -Path '/_fake/secrets' -Body @{ name = 'mysecretname'; value = 'mysecretvalue' }

    function Invoke-Fake {
        param([string] $PathAndQuery, [hashtable] $Headers = @{})
        try {
            $r = Invoke-WebRequest -Uri ($script:Fake.Url + $PathAndQuery) -Headers $Headers -NoProxy -UseBasicParsing
            [pscustomobject]@{ Status = [int] $r.StatusCode; Body = ($r.Content | ConvertFrom-Json); Challenge = $null }
        } catch {
            $response = $_.Exception.Response
            $challenge = $null
            if ($response.Headers.WwwAuthenticate.Count -gt 0) { $challenge = $response.Headers.WwwAuthenticate.ToString() }
            [pscustomobject]@{ Status = [int] $response.StatusCode; Body = ($_.ErrorDetails.Message | ConvertFrom-Json); Challenge = $challenge }
        }
    }

    function Get-VaultToken {
        (Invoke-Fake '/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net' @{ Metadata = 'true' }).Body.access_token
    }
}

AfterAll { Stop-FakeAzure $script:Fake }

Describe 'fake IMDS' {
    It 'issues a token in the IMDS shape (numbers as strings)' {
        $r = Invoke-Fake '/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net' @{ Metadata = 'true' }
        $r.Status | Should -Be 200
        $r.Body.token_type | Should -Be 'Bearer'
        $r.Body.resource | Should -Be 'https://vault.azure.net'
        $r.Body.expires_in | Should -BeOfType [string]
        $r.Body.expires_on | Should -Match '^\d+$'
        $r.Body.access_token | Should -Not -BeNullOrEmpty
    }

    It 'rejects a request without the Metadata header (400 bad_request_102)' {
        $r = Invoke-Fake '/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net'
        $r.Status | Should -Be 400
        $r.Body.error | Should -Be 'bad_request_102'
    }

    It 'rejects Metadata values other than lowercase true' {
        (Invoke-Fake '/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net' @{ Metadata = 'True' }).Status | Should -Be 400
    }

    It 'rejects a missing or unknown api-version' {
        (Invoke-Fake '/metadata/identity/oauth2/token?resource=https%3A%2F%2Fvault.azure.net' @{ Metadata = 'true' }).Status | Should -Be 400
        (Invoke-Fake '/metadata/identity/oauth2/token?api-version=2099-01-01&resource=https%3A%2F%2Fvault.azure.net' @{ Metadata = 'true' }).Body.error | Should -Be 'invalid_request'
    }

    It 'rejects an unknown resource (400 invalid_resource)' {
        (Invoke-Fake '/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fexample.test' @{ Metadata = 'true' }).Body.error | Should -Be 'invalid_resource'
    }

    It 'rejects proxied requests (X-Forwarded-For)' {
        (Invoke-Fake '/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net' @{ Metadata = 'true'; 'X-Forwarded-For' = '10.0.0.1' }).Status | Should -Be 400
    }
}

Describe 'fake IMDS attested document' {
    It 'answers {encoding, signature} for a 10-digit nonce' {
        $r = Invoke-Fake '/metadata/attested/document?api-version=2018-10-01&nonce=0123456789' @{ Metadata = 'true' }
        $r.Status | Should -Be 200
        $r.Body.encoding | Should -Be 'pkcs7'
        $r.Body.signature | Should -Match '^[A-Za-z0-9+/]+=*$'
    }

    It 'rejects what IMDS rejects: no Metadata header, an api-version before the attested category, a nonce not of 10 digits, a proxied request' {
        (Invoke-Fake '/metadata/attested/document?api-version=2018-10-01').Body.error | Should -Match 'Required metadata header not specified'
        (Invoke-Fake '/metadata/attested/document?api-version=2018-02-01' @{ Metadata = 'true' }).Status | Should -Be 400
        (Invoke-Fake '/metadata/attested/document' @{ Metadata = 'true' }).Status | Should -Be 400
        (Invoke-Fake '/metadata/attested/document?api-version=2018-10-01&nonce=12345' @{ Metadata = 'true' }).Status | Should -Be 400
        (Invoke-Fake '/metadata/attested/document?api-version=2018-10-01' @{ Metadata = 'true'; 'X-Forwarded-For' = '10.0.0.1' }).Status | Should -Be 400
    }
}

Describe 'fake Key Vault' {
    It 'returns a secret in the shape of the GetSecret example' {
        $r = Invoke-Fake '/secrets/mysecretname?api-version=7.5' @{ Authorization = "Bearer $(Get-VaultToken)" }
        $r.Status | Should -Be 200
        $r.Body.value | Should -Be 'mysecretvalue'
        $r.Body.id | Should -Match '/secrets/mysecretname/[0-9a-f]{32}$'
        $r.Body.attributes.enabled | Should -BeTrue
        $r.Body.attributes.recoveryLevel | Should -Be 'Recoverable+Purgeable'
        # The id's version addresses the same secret.
        $version = ($r.Body.id -split '/')[-1]
        (Invoke-Fake "/secrets/mysecretname/${version}?api-version=7.4" @{ Authorization = "Bearer $(Get-VaultToken)" }).Body.value | Should -Be 'mysecretvalue'
    }

    It 'answers 401 with a bearer challenge without a token' {
        $r = Invoke-Fake '/secrets/mysecretname?api-version=7.4'
        $r.Status | Should -Be 401
        $r.Challenge | Should -Match '^Bearer authorization="https://login.microsoftonline.com/[^"]+", resource="https://vault.azure.net"'
        $r.Body.error.code | Should -Be 'Unauthorized'
    }

    It 'answers 401 to a token it did not issue or one for another resource' {
        (Invoke-Fake '/secrets/mysecretname?api-version=7.4' @{ Authorization = 'Bearer made-up' }).Status | Should -Be 401
        $armToken = (Invoke-Fake '/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com%2F' @{ Metadata = 'true' }).Body.access_token
        (Invoke-Fake '/secrets/mysecretname?api-version=7.4' @{ Authorization = "Bearer $armToken" }).Status | Should -Be 401
    }

    It 'rejects a missing or unknown api-version (400 BadParameter)' {
        $headers = @{ Authorization = "Bearer $(Get-VaultToken)" }
        (Invoke-Fake '/secrets/mysecretname' $headers).Body.error.code | Should -Be 'BadParameter'
        (Invoke-Fake '/secrets/mysecretname?api-version=2016-10-01' $headers).Status | Should -Be 400
    }

    It 'answers 404 SecretNotFound for an unknown secret' {
        $r = Invoke-Fake '/secrets/nope?api-version=7.4' @{ Authorization = "Bearer $(Get-VaultToken)" }
        $r.Status | Should -Be 404
        $r.Body.error.code | Should -Be 'SecretNotFound'
    }
}
