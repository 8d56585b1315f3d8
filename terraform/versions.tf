terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.60"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = merge({ Application = "sparta", Deployment = var.deployment }, var.tags)
  }
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}
