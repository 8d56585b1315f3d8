resource "aws_ecs_cluster" "sparta" {
  name = local.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

locals {
  # TOML inline tables for the Discord ids, rendered here so the template stays free of directives.
  discord_roles_toml    = "{ ${join(", ", [for name, id in var.discord_role_ids : "${jsonencode(name)} = ${jsonencode(id)}"])} }"
  discord_channels_toml = "{ ${join(", ", [for name, id in var.discord_channel_ids : "${jsonencode(name)} = ${jsonencode(id)}"])} }"

  config = templatefile("${path.module}/sparta.toml.tftpl", {
    node_url                = var.node_url
    deployment              = var.deployment
    metrics_namespace       = local.metrics_namespace
    region                  = var.region
    table_prefix            = local.table_prefix
    container_port          = var.container_port
    ha_enabled              = var.leader_election
    discord_guild_id        = jsonencode(var.discord_guild_id)
    discord_application_id  = jsonencode(var.discord_application_id)
    discord_roles           = local.discord_roles_toml
    discord_channels        = local.discord_channels_toml
    discord_moderator_roles = jsonencode(var.discord_moderator_role_ids)
  })
}

resource "aws_ecs_task_definition" "sparta" {
  family                   = local.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.cpu
  memory                   = var.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  container_definitions = jsonencode([{
    name                   = "sparta"
    image                  = var.image
    essential              = true
    command                = ["--log-json", "run"]
    readonlyRootFilesystem = true
    user                   = "65532:65532"
    stopTimeout            = 30
    portMappings           = [{ containerPort = var.container_port, protocol = "tcp" }]
    environment = [
      { name = "SPARTA_CONFIG_TOML", value = local.config },
      { name = "RUST_LOG", value = "info" },
    ]
    secrets = [
      { name = "SPARTA_DISCORD_TOKEN", valueFrom = aws_secretsmanager_secret.discord_token.arn },
      { name = "SPARTA_DISCORD_PUBLIC_KEY", valueFrom = aws_secretsmanager_secret.discord_public_key.arn },
      { name = "SPARTA_API_KEY", valueFrom = aws_secretsmanager_secret.api_key.arn },
      { name = "SPARTA_L1_URL", valueFrom = aws_secretsmanager_secret.l1_url.arn },
    ]
    # Liveness: ECS replaces a task whose process stops answering. Readiness is the load balancer's.
    healthCheck = {
      command     = ["CMD", "/usr/local/bin/sparta", "probe", "http://127.0.0.1:${var.container_port}/healthz"]
      interval    = 15
      timeout     = 5
      retries     = 3
      startPeriod = 30
    }
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.sparta.name
        awslogs-region        = var.region
        awslogs-stream-prefix = "sparta"
      }
    }
  }])
}

resource "aws_ecs_service" "sparta" {
  name            = local.name
  cluster         = aws_ecs_cluster.sparta.id
  task_definition = aws_ecs_task_definition.sparta.arn
  desired_count   = local.desired_count
  launch_type     = "FARGATE"
  # Without leader election, never two tasks at once (both would publish): stop, then start.
  deployment_minimum_healthy_percent = var.leader_election ? 100 : 0
  deployment_maximum_percent         = var.leader_election ? 200 : 100
  health_check_grace_period_seconds  = 60
  enable_execute_command             = false

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = var.subnet_ids
    security_groups  = [aws_security_group.task.id]
    assign_public_ip = var.assign_public_ip
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.sparta.arn
    container_name   = "sparta"
    container_port   = var.container_port
  }

  depends_on = [aws_lb_listener.https]
}
