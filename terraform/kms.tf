# One customer-managed key for everything sparta stores at rest: tables, secrets, logs, the alarm topic.
resource "aws_kms_key" "sparta" {
  description             = "${local.name}: tables, secrets, logs and alarm notifications"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json
}

resource "aws_kms_alias" "sparta" {
  name          = "alias/${local.name}"
  target_key_id = aws_kms_key.sparta.key_id
}

data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_109:This is a key policy: "*" as resource means this key only, and the account-root statement is AWS's default that lets IAM govern the key.
  #checkov:skip=CKV_AWS_111:This is a key policy: "*" as resource means this key only; service principals are limited by encryption context or to decrypt and generate data keys.
  #checkov:skip=CKV_AWS_356:This is a key policy: a key policy's resource is always "*", which means the key it is attached to.
  # The account administers the key through IAM, as with AWS's default key policy.
  statement {
    sid       = "AccountAdministers"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid = "CloudWatchLogsEncrypts"
    actions = [
      "kms:Encrypt",
      "kms:Decrypt",
      "kms:ReEncryptFrom",
      "kms:ReEncryptTo",
      "kms:GenerateDataKey",
      "kms:GenerateDataKeyWithoutPlaintext",
      "kms:DescribeKey",
    ]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${var.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${var.region}:${local.account_id}:log-group:/ecs/${local.name}"]
    }
  }

  # Alarms publish to the encrypted topic.
  statement {
    sid       = "CloudWatchAlarmsPublish"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
  }
}
