resource "aws_security_group" "alb" {
  name        = "${local.name}-alb"
  description = "sparta load balancer: HTTPS in, to the tasks only"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "alb_https" {
  for_each          = toset(var.allowed_cidrs)
  security_group_id = aws_security_group.alb.id
  description       = "HTTPS from clients (Discord interactions, API consumers)"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

# HTTP in only for the redirect listener (the group description predates it; changing it would replace the group).
resource "aws_vpc_security_group_ingress_rule" "alb_http" {
  #checkov:skip=CKV_AWS_260:Port 80 is open only so the HTTP listener (alb.tf) can answer every request with a 301 to HTTPS; nothing is served in clear text.
  for_each          = toset(var.allowed_cidrs)
  security_group_id = aws_security_group.alb.id
  description       = "HTTP from clients, answered only with a redirect to HTTPS"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
}

resource "aws_vpc_security_group_egress_rule" "alb_to_tasks" {
  security_group_id            = aws_security_group.alb.id
  description                  = "To the tasks' HTTP port"
  referenced_security_group_id = aws_security_group.task.id
  ip_protocol                  = "tcp"
  from_port                    = var.container_port
  to_port                      = var.container_port
}

resource "aws_security_group" "task" {
  name        = "${local.name}-task"
  description = "sparta tasks: HTTP from the load balancer and scrapers; out to HTTPS APIs and the Aztec node"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "task_from_alb" {
  security_group_id            = aws_security_group.task.id
  description                  = "From the load balancer"
  referenced_security_group_id = aws_security_group.alb.id
  ip_protocol                  = "tcp"
  from_port                    = var.container_port
  to_port                      = var.container_port
}

resource "aws_vpc_security_group_ingress_rule" "task_from_scrapers" {
  for_each          = toset(var.metrics_scraper_cidrs)
  security_group_id = aws_security_group.task.id
  description       = "Prometheus scraping /metrics"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = var.container_port
  to_port           = var.container_port
}

resource "aws_vpc_security_group_egress_rule" "task_https" {
  security_group_id = aws_security_group.task.id
  description       = "HTTPS to Discord, AWS APIs and the L1 RPC provider, whose addresses are not fixed"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "task_node" {
  for_each          = toset(var.node_cidrs)
  security_group_id = aws_security_group.task.id
  description       = "To the Aztec node's JSON-RPC"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = var.node_port
  to_port           = var.node_port
}
