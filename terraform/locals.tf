locals {
  name         = "sparta-${var.deployment}"
  table_prefix = "sparta-${var.deployment}-"
  # Two tasks only make sense with leader election: without it, both would publish.
  desired_count = var.leader_election ? 2 : 1
  account_id    = data.aws_caller_identity.current.account_id
  partition     = data.aws_partition.current.partition
  # account.dkr.ecr.region.amazonaws.com/repository[:tag|@digest] -> the repository's ARN (null for other registries).
  ecr_image          = try(regex("^([0-9]{12})\\.dkr\\.ecr\\.([a-z0-9-]+)\\.amazonaws\\.com/([^:@]+)", var.image), null)
  ecr_repository_arn = local.ecr_image == null ? null : "arn:${local.partition}:ecr:${local.ecr_image[1]}:${local.ecr_image[0]}:repository/${local.ecr_image[2]}"
}
