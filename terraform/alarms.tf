# Alarms on sparta's custom metrics (namespace and names from engine/telemetry/src/catalog.rs; a test
# checks them). Each links its entry in docs/runbook.md. Instances of one deployment publish into the
# same series (dimension Deployment), so the statistics aggregate across them: the engine's gauges use
# Maximum, because a task that stopped leading keeps its last (frozen) values and must not hide a
# lagging leader. Thresholds match dashboards/prometheus/rules.yml.
locals {
  metrics_namespace = var.metrics_namespace

  alarms = {
    chain_stalled = {
      metric      = "sparta_network_checkpoint_age_seconds"
      statistic   = "Maximum"
      comparison  = "GreaterThanThreshold"
      threshold   = 900
      period      = 60
      periods     = 5
      missing     = "notBreaching"
      description = "The pending checkpoint on L1 has not advanced for 15 minutes: the network, not sparta, may be stalled."
    }
    engine_lag = {
      metric      = "sparta_engine_lag_slots"
      statistic   = "Maximum"
      comparison  = "GreaterThanThreshold"
      threshold   = 16
      period      = 60
      periods     = 10
      missing     = "notBreaching"
      description = "sparta has been more than 16 slots behind the slot clock for 10 minutes."
    }
    data_stale = {
      metric      = "sparta_engine_data_age_seconds"
      statistic   = "Maximum"
      comparison  = "GreaterThanThreshold"
      threshold   = 600
      period      = 60
      periods     = 5
      missing     = "breaching"
      description = "The last processed slot is more than 10 minutes old, or sparta publishes no metrics at all."
    }
    slash_detected = {
      metric      = "sparta_network_slashes_total"
      statistic   = "Sum"
      comparison  = "GreaterThanThreshold"
      threshold   = 0
      period      = 300
      periods     = 1
      missing     = "notBreaching"
      description = "A Slashed event was read on L1."
    }
    outbox_growing = {
      metric      = "sparta_discord_outbox_backlog"
      statistic   = "Minimum"
      comparison  = "GreaterThanThreshold"
      threshold   = 50
      period      = 60
      periods     = 15
      missing     = "notBreaching"
      description = "More than 50 decided Discord actions have waited for delivery for 15 minutes."
    }
    discord_rate_limited = {
      metric      = "sparta_discord_rate_limited_total"
      statistic   = "Sum"
      comparison  = "GreaterThanThreshold"
      threshold   = 20
      period      = 300
      periods     = 3
      missing     = "notBreaching"
      description = "Discord requests waited for a rate limit more than 20 times per 5 minutes for 15 minutes."
    }
    no_leader = {
      metric      = "sparta_engine_leader"
      statistic   = "Maximum"
      comparison  = "LessThanThreshold"
      threshold   = 1
      period      = 60
      periods     = 3
      missing     = "breaching"
      description = "No sparta instance has led (published) for 3 minutes."
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "sparta" {
  for_each = local.alarms

  alarm_name          = "sparta-${var.deployment}-${each.key}"
  alarm_description   = "${each.value.description} Runbook: docs/runbook.md#${replace(each.key, "_", "-")}"
  namespace           = local.metrics_namespace
  metric_name         = each.value.metric
  dimensions          = { Deployment = var.deployment }
  statistic           = each.value.statistic
  comparison_operator = each.value.comparison
  threshold           = lookup(var.alarm_thresholds, each.key, each.value.threshold)
  period              = each.value.period
  evaluation_periods  = each.value.periods
  treat_missing_data  = each.value.missing
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}
