# The secrets' values are never in Terraform (nor its state): the operator puts them with
# `aws secretsmanager put-secret-value` (docs/deploy.md). ECS injects them as environment variables.
resource "aws_secretsmanager_secret" "discord_token" {
  #checkov:skip=CKV2_AWS_57:Discord bot tokens are rotated in Discord's developer portal, which no rotation Lambda can drive; docs/deploy.md has the manual rotation.
  name        = "${local.name}/discord-token"
  description = "Discord bot token"
  kms_key_id  = aws_kms_key.sparta.arn
}

resource "aws_secretsmanager_secret" "discord_public_key" {
  #checkov:skip=CKV2_AWS_57:The public key is issued by Discord per application and changes only with the application; there is nothing to rotate.
  name        = "${local.name}/discord-public-key"
  description = "Discord application public key (64 hex digits)"
  kms_key_id  = aws_kms_key.sparta.arn
}

resource "aws_secretsmanager_secret" "api_key" {
  #checkov:skip=CKV2_AWS_57:The API key is shared with the API's consumers, so rotation is a coordinated manual step (docs/deploy.md), not a Lambda.
  name        = "${local.name}/api-key"
  description = "API key of the read-only JSON API (at least 32 characters)"
  kms_key_id  = aws_kms_key.sparta.arn
}

resource "aws_secretsmanager_secret" "l1_url" {
  #checkov:skip=CKV2_AWS_57:The L1 URL's key is issued by the RPC provider; rotating it means a new key at the provider, a manual step (docs/deploy.md).
  name        = "${local.name}/l1-url"
  description = "Ethereum JSON-RPC URL (provider URLs embed keys)"
  kms_key_id  = aws_kms_key.sparta.arn
}

