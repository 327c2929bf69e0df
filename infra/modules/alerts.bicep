// kiln's alerts: log search alert rules over the metrics the app sends to Application Insights
// (customMetrics rows named as src/telemetry/instruments.ts names them, attributes in
// customDimensions), and the action group that notifies people. Each rule says what broke and how to
// look: a rollback, a failed or rejected rebuild, a scale set left off its model past the rollouts'
// busy wait, ghost registrations growing for an hour, a runner GitHub refuses. The rules carry no
// managed identity, so no identity of kiln's gains a grant (infra/README.md, "Who may do what").
metadata description = 'Alert rules over kiln\'s metrics in Application Insights, and their action group.'

import { tagsType } from 'types.bicep'

@description('Required. Name prefix of the rules and the action group.')
param namePrefix string

@description('Required. Azure region of the rules (the component\'s).')
param location string

@description('Optional. Resource tags.')
param tags tagsType = {}

@description('Required. Name of the Application Insights component the app sends its metrics to (in this resource group).')
param appInsightsName string

@description('Optional. Email addresses to notify; each becomes an email receiver. Empty, with no webhook: the rules fire in Azure Monitor and no action group is made.')
param emailAddresses string[] = []

@description('Optional. Webhook the alerts are posted to (common alert schema), e.g. an incoming webhook of a chat. Empty: no webhook receiver.')
@secure()
param webhookUrl string = ''

@description('Optional. Hours a scale set may have instances off its model before it counts as still pending: the rollouts\' busy wait.')
@minValue(1)
@maxValue(47)
param busyWaitHours int = 6

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

var notifies = !empty(emailAddresses) || !empty(webhookUrl)

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (notifies) {
  name: 'ag-${namePrefix}-kiln'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'kiln'
    enabled: true
    emailReceivers: [
      for (address, i) in emailAddresses: {
        name: 'email-${i}'
        emailAddress: address
        useCommonAlertSchema: true
      }
    ]
    webhookReceivers: empty(webhookUrl)
      ? []
      : [
          {
            name: 'webhook'
            serviceUri: webhookUrl
            useCommonAlertSchema: true
          }
        ]
  }
}

// The queries. Metrics arrive as the app exports them (every OTEL_METRIC_EXPORT_INTERVAL, deltas for
// counters, the values recorded since the last export for gauges), so a rule looks at the rows of its
// window. The windows overlap their evaluation period: a row ingested late is still seen, and a rule
// that stays true fires once (autoMitigate).

var rollbackQuery = '''
customMetrics
| where name == "kiln.rollout.rollbacks"
| extend image = tostring(customDimensions.image), version = tostring(customDimensions.version), scaleSet = tostring(customDimensions.scale_set)
| summarize rollbacks = sum(value) by image, version, scaleSet
'''

var rebuildQuery = '''
customMetrics
| where name == "kiln.rebuild.outcome"
| extend image = tostring(customDimensions.image), outcome = tostring(customDimensions.outcome)
| where outcome in ("failed", "rejected")
| summarize rebuilds = sum(value) by image, outcome
'''

// Every look at a scale set (a cleanup's every 15 minutes, a rollout's) records its instances by
// version and model, all in one export; a scale set is still pending when each look of the last
// BUSY_WAIT_HOURS hours, from the window's start on, saw instances off its model.
var pendingQuery = replace(
  '''
let since = ago(BUSY_WAIT_HOURSh);
customMetrics
| where timestamp > since and name == "kiln.fleet.instances"
| extend scaleSet = tostring(customDimensions.scale_set), latestModel = tostring(customDimensions.latest_model)
| summarize offModel = sumif(value, latestModel == "false") by scaleSet, timestamp
| summarize looks = count(), looksOffModel = countif(offModel > 0), firstLook = min(timestamp) by scaleSet
| where looksOffModel == looks and firstLook < since + 30m
''',
  'BUSY_WAIT_HOURS',
  string(busyWaitHours)
)

// Each cleanup records the ghosts it found per fleet: growing means every count of the last hour at
// least the one before it, and the last above the first.
var ghostsQuery = '''
customMetrics
| where timestamp > ago(1h) and name == "kiln.ghosts.found"
| extend fleet = tostring(customDimensions.fleet)
| order by fleet asc, timestamp asc
| extend fell = fleet == prev(fleet) and value < prev(value)
| summarize (firstAt, firstCount) = arg_min(timestamp, value), (lastAt, lastCount) = arg_max(timestamp, value), falls = countif(fell) by fleet
| where falls == 0 and lastCount > firstCount and lastAt - firstAt >= 45m
'''

// The daily runner-release watch records the days left: the last one counts.
var runnerQuery = '''
customMetrics
| where name == "kiln.runner.days_left"
| summarize arg_max(timestamp, value)
| where value <= 0
| project daysLeft = value
'''

var rules = [
  {
    name: 'rollback'
    displayName: 'kiln: a rollout was rolled back'
    description: 'A wave of a rollout broke its health gate and kiln rolled the scale set back to the version it ran (the version stays out). See the rollout in GET /api/runs and why the new instances were unhealthy.'
    severity: 2
    query: rollbackQuery
    frequency: 'PT15M'
    window: 'PT30M'
    measure: 'rollbacks'
    dimensions: ['image', 'version', 'scaleSet']
  }
  {
    name: 'rebuild-failed'
    displayName: 'kiln: an image rebuild failed or was rejected'
    description: 'A rebuild ended failed (build, publish, replication or canary could not finish) or rejected (the canary broke): the fleet stays on its older image. See the rebuild in GET /api/runs for the reason.'
    severity: 1
    query: rebuildQuery
    frequency: 'PT15M'
    window: 'PT30M'
    measure: 'rebuilds'
    dimensions: ['image', 'outcome']
  }
  {
    name: 'scale-set-pending'
    displayName: 'kiln: a scale set is still pending after the busy wait'
    description: 'Every look of the last ${busyWaitHours} hours (busyWaitHours) found instances of the scale set off its model: busy instances a rollout left pending, or a model changed without a rollout. See kiln.fleet.instances and the rollout\'s pending instances.'
    severity: 2
    query: pendingQuery
    frequency: 'PT15M'
    window: 'PT${busyWaitHours}H'
    measure: ''
    dimensions: ['scaleSet']
  }
  {
    name: 'ghosts-growing'
    displayName: 'kiln: ghost registrations keep growing'
    description: 'For an hour every cleanup found at least as many runners or agents whose instance is gone as the one before, and more in the end: removals fail or cleanups stopped acting. See the cleanup runs\' errors.'
    severity: 3
    query: ghostsQuery
    frequency: 'PT15M'
    window: 'PT1H'
    measure: ''
    dimensions: ['fleet']
  }
  {
    name: 'runner-too-old'
    displayName: 'kiln: GitHub refuses the baked runner'
    description: 'The runner in the newest promoted Linux version is past GitHub\'s 30 days after a newer release: new runners cannot register. Rebuild Linux (POST /api/rebuilds with images [linux]) and see the runner-release watch\'s last run.'
    severity: 1
    query: runnerQuery
    frequency: 'PT1H'
    window: 'P2D'
    measure: ''
    dimensions: []
  }
]

resource alertRules 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [
  for rule in rules: {
    name: 'alert-${namePrefix}-${rule.name}'
    location: location
    tags: tags
    kind: 'LogAlert'
    properties: {
      displayName: rule.displayName
      description: rule.description
      severity: rule.severity
      enabled: true
      scopes: [
        appInsights.id
      ]
      evaluationFrequency: rule.frequency
      windowSize: rule.window
      autoMitigate: true
      criteria: {
        allOf: [
          {
            query: rule.query
            timeAggregation: empty(rule.measure) ? 'Count' : 'Total'
            metricMeasureColumn: empty(rule.measure) ? null : rule.measure
            dimensions: [
              for dimension in rule.dimensions: {
                name: dimension
                operator: 'Include'
                values: [
                  '*'
                ]
              }
            ]
            operator: 'GreaterThan'
            threshold: 0
            failingPeriods: {
              numberOfEvaluationPeriods: 1
              minFailingPeriodsToAlert: 1
            }
          }
        ]
      }
      actions: {
        actionGroups: notifies ? [actionGroup.id] : []
      }
    }
  }
]
