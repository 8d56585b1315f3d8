# The CloudWatch dashboard of the metrics the alarms watch (dashboards/cloudwatch; a test checks every
# metric in it against the catalog).
resource "aws_cloudwatch_dashboard" "sparta" {
  dashboard_name = local.name
  dashboard_body = templatefile("${path.module}/../dashboards/cloudwatch/sparta.json.tftpl", {
    deployment = var.deployment
    region     = var.region
    namespace  = local.metrics_namespace
  })
}
