resource "aws_cloudwatch_log_group" "sparta" {
  name              = "/ecs/${local.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.sparta.arn
}
