variable "region" {
  description = "AWS region for every resource."
  type        = string
  default     = "us-east-1"
}

variable "deployment" {
  description = "Name of this deployment (one per network, e.g. testnet). Prefixes every name and is the CloudWatch Deployment dimension."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.deployment))
    error_message = "deployment must be 2-21 characters: lower-case letters, digits and dashes, starting with a letter."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace sparta puts its metrics into; the alarms, the dashboard and the IAM condition follow it."
  type        = string
  default     = "Sparta"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9/_.#-]{0,254}$", var.metrics_namespace)) && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be 1-255 letters, digits or / _ . # -, not under AWS/."
  }
}

variable "image" {
  description = "Container image of sparta, ideally pinned by digest (e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/sparta@sha256:...)."
  type        = string

  validation {
    condition     = can(regex("^[^\\s]+(:[^:/\\s]+|@sha256:[0-9a-f]{64})$", var.image)) && !endswith(var.image, ":latest")
    error_message = "image must name a tag or a digest, and not :latest (a rollout must know what it runs)."
  }
}

variable "vpc_id" {
  description = "Existing VPC to run in."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets for the tasks (they need egress to Discord, AWS APIs, the L1 RPC and the Aztec node)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) > 0
    error_message = "subnet_ids must name at least one subnet."
  }
}

variable "public_subnet_ids" {
  description = "Public subnets for the internet-facing load balancer (at least two availability zones)."
  type        = list(string)

  validation {
    condition     = length(var.public_subnet_ids) >= 2
    error_message = "An application load balancer needs subnets in at least two availability zones."
  }
}

variable "certificate_arn" {
  description = "ACM certificate for the load balancer's HTTPS listener."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:acm:", var.certificate_arn))
    error_message = "certificate_arn must be an ACM certificate ARN."
  }
}

variable "node_url" {
  description = "Aztec node JSON-RPC URL (not a secret; the L1 URL, which usually carries a key, goes to Secrets Manager)."
  type        = string

  validation {
    condition     = can(regex("^https?://", var.node_url))
    error_message = "node_url must be an http:// or https:// URL."
  }
}

variable "node_cidrs" {
  description = "Networks where the Aztec node listens, for the task's egress rule."
  type        = list(string)

  validation {
    condition     = length(var.node_cidrs) > 0 && alltrue([for c in var.node_cidrs : can(cidrhost(c, 0))])
    error_message = "node_cidrs must list at least one IPv4 CIDR block."
  }
}

variable "node_port" {
  description = "Port of the Aztec node's JSON-RPC."
  type        = number
  default     = 8080

  validation {
    condition     = var.node_port >= 1 && var.node_port <= 65535
    error_message = "node_port must be a TCP port."
  }
}

variable "container_port" {
  description = "Port sparta serves /healthz, /readyz, /metrics, the interactions endpoint and the API on."
  type        = number
  default     = 9464

  validation {
    condition     = var.container_port >= 1024 && var.container_port <= 65535
    error_message = "container_port must be 1024-65535: the container runs as a non-root user."
  }
}

variable "assign_public_ip" {
  description = "Give the tasks public IPs. Leave false with private subnets behind a NAT gateway; true only in public subnets without NAT."
  type        = bool
  default     = false
}

variable "leader_election" {
  description = "Run two tasks that elect one leader through the store's lease (one publishes; the other takes over within two lease TTLs)."
  type        = bool
  default     = false
}

variable "cpu" {
  description = "Fargate CPU units per task."
  type        = number
  default     = 512

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096], var.cpu)
    error_message = "cpu must be a Fargate size: 256, 512, 1024, 2048 or 4096 (memory must match it)."
  }
}

variable "memory" {
  description = "Fargate memory per task, in MiB."
  type        = number
  default     = 1024
}

variable "log_retention_days" {
  description = "How long CloudWatch Logs keeps sparta's log lines."
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention of at least a year (365, 400, 545, 731, 1096, 1827, ... 3653)."
  }
}

variable "alarm_emails" {
  description = "Email addresses subscribed to the alarm topic (each must confirm the subscription)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.alarm_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "alarm_emails must be email addresses."
  }
}

variable "allowed_cidrs" {
  description = "Who may reach the load balancer. Discord's interaction callbacks come from changing addresses, so the default is everyone; requests are Ed25519-verified."
  type        = list(string)
  default     = ["0.0.0.0/0"]

  validation {
    condition     = alltrue([for c in var.allowed_cidrs : can(cidrhost(c, 0))])
    error_message = "allowed_cidrs must be IPv4 CIDR blocks."
  }
}

variable "metrics_scraper_cidrs" {
  description = "Networks of Prometheus servers allowed to scrape the tasks' /metrics directly (never through the load balancer)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.metrics_scraper_cidrs : can(cidrhost(c, 0)) && c != "0.0.0.0/0"])
    error_message = "metrics_scraper_cidrs must be IPv4 CIDR blocks of your scrapers, never 0.0.0.0/0."
  }
}

variable "access_logs_bucket" {
  description = "Existing S3 bucket for the load balancer's access logs (empty: no access logs)."
  type        = string
  default     = ""
}

variable "deletion_protection" {
  description = "Protect the tables and the load balancer from deletion (turn off only to tear down)."
  type        = bool
  default     = true
}

variable "alarm_thresholds" {
  description = "Overrides for alarm thresholds, by alarm name (see local.alarms)."
  type        = map(number)
  default     = {}

  validation {
    condition     = length(setsubtract(keys(var.alarm_thresholds), ["chain_stalled", "engine_lag", "data_stale", "slash_detected", "outbox_growing", "discord_rate_limited", "no_leader"])) == 0
    error_message = "alarm_thresholds keys must be alarm names from terraform/alarms.tf."
  }
}

variable "discord_guild_id" {
  description = "The Discord server whose roles sparta manages (needed once the bot token secret has a value)."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^[0-9]{0,20}$", var.discord_guild_id))
    error_message = "discord_guild_id must be a Discord id (digits) or empty."
  }
}

variable "discord_application_id" {
  description = "The Discord application id (empty: looked up with the bot token)."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^[0-9]{0,20}$", var.discord_application_id))
    error_message = "discord_application_id must be a Discord id (digits) or empty."
  }
}

variable "discord_role_ids" {
  description = "Engine role name (the performance role, \"slashed\") to Discord role id."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for id in values(var.discord_role_ids) : can(regex("^[0-9]{1,20}$", id))])
    error_message = "discord_role_ids values must be Discord ids (digits)."
  }
}

variable "discord_channel_ids" {
  description = "Engine channel name (\"validator-alerts\") to Discord channel id."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for id in values(var.discord_channel_ids) : can(regex("^[0-9]{1,20}$", id))])
    error_message = "discord_channel_ids values must be Discord ids (digits)."
  }
}

variable "discord_moderator_role_ids" {
  description = "Members with any of these Discord roles may use /mod."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.discord_moderator_role_ids : can(regex("^[0-9]{1,20}$", id))])
    error_message = "discord_moderator_role_ids must be Discord ids (digits)."
  }
}

variable "tags" {
  description = "Extra tags on every resource."
  type        = map(string)
  default     = {}
}
