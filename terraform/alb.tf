resource "aws_lb" "sparta" {
  #checkov:skip=CKV2_AWS_28:A WAF is optional here: every interaction is Ed25519-verified and the API needs a key before it reads anything; attach one with aws_wafv2_web_acl_association if wanted.
  name                       = local.name
  load_balancer_type         = "application"
  internal                   = false
  subnets                    = var.public_subnet_ids
  security_groups            = [aws_security_group.alb.id]
  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection

  access_logs {
    bucket  = var.access_logs_bucket
    prefix  = local.name
    enabled = var.access_logs_bucket != ""
  }
}

resource "aws_lb_target_group" "sparta" {
  #checkov:skip=CKV_AWS_378:TLS ends at the load balancer; the hop to the task stays inside the VPC, allowed only from the load balancer's security group, and a task holds no certificate.
  name        = local.name
  vpc_id      = var.vpc_id
  target_type = "ip"
  protocol    = "HTTP"
  port        = var.container_port
  # Tasks stop within their 30 s stop timeout; no point waiting the default 300 s.
  deregistration_delay = 30

  # /readyz answers 503 until the task is ready (while starting), so a task gets traffic only once it runs.
  health_check {
    path                = "/readyz"
    matcher             = "200"
    interval            = 10
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.sparta.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  # Anything not routed below (/metrics above all) is not public.
  default_action {
    type = "fixed-response"
    fixed_response {
      content_type = "text/plain"
      message_body = "not found"
      status_code  = "404"
    }
  }
}

# Port 80 only redirects: nothing is served in clear text.
resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.sparta.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"
    redirect {
      protocol    = "HTTPS"
      port        = "443"
      status_code = "HTTP_301"
    }
  }
}

resource "aws_lb_listener_rule" "public_paths" {
  listener_arn = aws_lb_listener.https.arn
  priority     = 10

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.sparta.arn
  }

  condition {
    path_pattern {
      values = ["/interactions", "/api/v1/*", "/healthz", "/readyz"]
    }
  }
}
