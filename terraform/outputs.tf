output "alb_dns_name" {
  description = "The load balancer's DNS name (point a DNS record for the certificate's name at it)."
  value       = aws_lb.sparta.dns_name
}

output "interactions_url" {
  description = "Discord's Interactions Endpoint URL, once DNS for the certificate's name points at the load balancer (replace the host with that name)."
  value       = "https://${aws_lb.sparta.dns_name}/interactions"
}

output "table_names" {
  description = "The store's tables."
  value = {
    meta       = aws_dynamodb_table.meta.name
    slots      = aws_dynamodb_table.slots.name
    validators = aws_dynamodb_table.validators.name
    roles      = aws_dynamodb_table.roles.name
    alerts     = aws_dynamodb_table.alerts.name
    outbox     = aws_dynamodb_table.outbox.name
    audit      = aws_dynamodb_table.audit.name
    challenges = aws_dynamodb_table.challenges.name
  }
}

output "secret_arns" {
  description = "Secrets to fill with `aws secretsmanager put-secret-value` before the first start."
  value = {
    SPARTA_DISCORD_TOKEN      = aws_secretsmanager_secret.discord_token.arn
    SPARTA_DISCORD_PUBLIC_KEY = aws_secretsmanager_secret.discord_public_key.arn
    SPARTA_API_KEY            = aws_secretsmanager_secret.api_key.arn
    SPARTA_L1_URL             = aws_secretsmanager_secret.l1_url.arn
  }
}

output "sns_topic_arn" {
  description = "Alarm notifications; subscribe more endpoints here."
  value       = aws_sns_topic.alarms.arn
}

output "log_group_name" {
  description = "sparta's log lines."
  value       = aws_cloudwatch_log_group.sparta.name
}

output "cluster_name" {
  description = "The ECS cluster."
  value       = aws_ecs_cluster.sparta.name
}

output "service_name" {
  description = "The ECS service."
  value       = aws_ecs_service.sparta.name
}

output "task_definition_arn" {
  description = "For one-off tasks such as `sparta migrate` (docs/deploy.md)."
  value       = aws_ecs_task_definition.sparta.arn
}

output "task_security_group_id" {
  description = "For one-off tasks, and to allow the tasks into the Aztec node's security group."
  value       = aws_security_group.task.id
}
