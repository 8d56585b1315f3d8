data "aws_iam_policy_document" "ecs_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

# The execution role: what ECS itself needs to start the task (pull, log, read the four secrets).
resource "aws_iam_role" "execution" {
  name               = "${local.name}-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_assume.json
}

data "aws_iam_policy_document" "execution" {
  # GetAuthorizationToken has no resource to scope; the pulls are scoped to the image's repository.
  statement {
    sid       = "LogInToEcr"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  dynamic "statement" {
    for_each = local.ecr_repository_arn == null ? [] : [local.ecr_repository_arn]
    content {
      sid       = "PullImage"
      actions   = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]
      resources = [statement.value]
    }
  }

  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.sparta.arn}:*"]
  }

  statement {
    sid     = "ReadTheSecrets"
    actions = ["secretsmanager:GetSecretValue"]
    resources = [
      aws_secretsmanager_secret.discord_token.arn,
      aws_secretsmanager_secret.discord_public_key.arn,
      aws_secretsmanager_secret.api_key.arn,
      aws_secretsmanager_secret.l1_url.arn,
    ]
  }

  # Only as Secrets Manager decrypts them for ECS.
  statement {
    sid       = "DecryptTheSecrets"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.sparta.arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${var.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "start-task"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

# The task role: what sparta does at run time (its tables and indexes, its metric namespace).
resource "aws_iam_role" "task" {
  name               = "${local.name}-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_assume.json
}

locals {
  table_arns = [
    aws_dynamodb_table.meta.arn,
    aws_dynamodb_table.slots.arn,
    aws_dynamodb_table.validators.arn,
    aws_dynamodb_table.roles.arn,
    aws_dynamodb_table.alerts.arn,
    aws_dynamodb_table.outbox.arn,
    aws_dynamodb_table.audit.arn,
    aws_dynamodb_table.challenges.arn,
  ]
  index_arns = [
    "${aws_dynamodb_table.validators.arn}/index/by_operator",
    "${aws_dynamodb_table.outbox.arn}/index/by_due",
  ]
}

data "aws_iam_policy_document" "task" {
  # The calls the store makes (engine/store/src/dynamo): GetItem, PutItem, Query, Scan (start-up
  # only), BatchWriteItem (stats, trimming, a repair's rewind, a /register dropping expired
  # challenges), DeleteItem (a /verify taking its challenge, a repair to before the first slot),
  # TransactWriteItems (authorised per item: its Puts and the lease's ConditionCheck). DescribeTable
  # and DescribeTimeToLive serve `sparta migrate`, which creates nothing when terraform made the
  # tables, so there is no CreateTable or UpdateTimeToLive.
  statement {
    sid = "UseTheTables"
    actions = [
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:DeleteItem",
      "dynamodb:ConditionCheckItem",
      "dynamodb:BatchWriteItem",
      "dynamodb:Query",
      "dynamodb:Scan",
      "dynamodb:DescribeTable",
      "dynamodb:DescribeTimeToLive",
    ]
    resources = local.table_arns
  }

  statement {
    sid       = "QueryTheIndexes"
    actions   = ["dynamodb:Query"]
    resources = local.index_arns
  }

  # The tables are encrypted with the CMK; DynamoDB uses it on the task's behalf, and only DynamoDB may.
  statement {
    sid       = "UseTheTableKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.sparta.arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["dynamodb.${var.region}.amazonaws.com"]
    }
  }

  # PutMetricData has no resource to scope; the namespace condition is its scope.
  statement {
    sid       = "PutSpartaMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = [local.metrics_namespace]
    }
  }
}

resource "aws_iam_role_policy" "task" {
  name   = "run"
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task.json
}
