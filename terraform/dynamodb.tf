# The store's tables, exactly as engine/store/src/dynamo/tables.rs designs them (docs/store.md);
# a test compares the two. On-demand capacity: load follows slots, not traffic.

# Schema version, network identity, checkpoint, cursors and the leader lease: one item per name.
resource "aws_dynamodb_table" "meta" {
  name                        = "${local.table_prefix}meta"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "name"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "name"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.sparta.arn
  }
}

# Slot facts and per-epoch committees; rows expire after the retention window.
resource "aws_dynamodb_table" "slots" {
  name                        = "${local.table_prefix}slots"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  range_key                   = "sk"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "sk"
    type = "N"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.sparta.arn
  }
}

# Per-validator stats and operator links; the sparse by_operator index holds the links.
resource "aws_dynamodb_table" "validators" {
  name                        = "${local.table_prefix}validators"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "address"
  range_key                   = "record"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "address"
    type = "S"
  }

  attribute {
    name = "record"
    type = "S"
  }

  attribute {
    name = "operator"
    type = "S"
  }

  global_secondary_index {
    name            = "by_operator"
    hash_key        = "operator"
    range_key       = "address"
    projection_type = "KEYS_ONLY"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.sparta.arn
  }
}

# Discord role state per operator.
resource "aws_dynamodb_table" "roles" {
  name                        = "${local.table_prefix}roles"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "subject"
  range_key                   = "role"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "subject"
    type = "S"
  }

  attribute {
    name = "role"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.sparta.arn
  }
}

# Alert state per subject and kind.
resource "aws_dynamodb_table" "alerts" {
  name                        = "${local.table_prefix}alerts"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "subject"
  range_key                   = "kind"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "subject"
    type = "S"
  }

  attribute {
    name = "kind"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.sparta.arn
  }
}

# Decided Discord actions by idempotency key; by_due indexes the claimable ones, settled ones expire.
resource "aws_dynamodb_table" "outbox" {
  name                        = "${local.table_prefix}outbox"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "key"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "key"
    type = "S"
  }

  attribute {
    name = "queue"
    type = "S"
  }

  attribute {
    name = "due"
    type = "N"
  }

  global_secondary_index {
    name            = "by_due"
    hash_key        = "queue"
    range_key       = "due"
    projection_type = "KEYS_ONLY"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.sparta.arn
  }
}

# Audit log of every decision, with its evidence.
resource "aws_dynamodb_table" "audit" {
  name                        = "${local.table_prefix}audit"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "subject"
  range_key                   = "entry"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "subject"
    type = "S"
  }

  attribute {
    name = "entry"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.sparta.arn
  }
}

# Open /register challenges, one per (Discord user, validator); each is deleted when answered and
# expires by TTL when not.
resource "aws_dynamodb_table" "challenges" {
  name                        = "${local.table_prefix}challenges"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "user"
  range_key                   = "validator"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "user"
    type = "S"
  }

  attribute {
    name = "validator"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.sparta.arn
  }
}
