//! A small JSON Schema checker for the vendored excerpt of Discord's OpenAPI description: the
//! keywords that excerpt uses ($ref, type, properties, required, additionalProperties, items,
//! oneOf/allOf, enum/const, length, range and pattern bounds), reporting every violation by path.
//! Shared by the interactions tests and the REST double, which also finds the operation a request
//! is for by matching the excerpt's path templates.

use std::collections::BTreeMap;

use serde_json::Value;

pub struct OpenApi {
    doc: Value,
}

pub const BULK_OVERWRITE_PATH: &str = "/applications/{application_id}/commands";

impl OpenApi {
    pub fn load() -> Self {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/discord/openapi-subset.json");
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
        Self { doc: serde_json::from_str(&text).expect("vendored OpenAPI excerpt is JSON") }
    }

    /// Any OpenAPI document, e.g. sparta's own API description.
    pub fn load_from(path: &str) -> Self {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
        Self { doc: serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not JSON: {e}")) }
    }

    /// The JSON schema of the `status` answer of `GET template`, following a `$ref` to a shared
    /// response.
    pub fn response_schema(&self, template: &str, status: &str) -> Value {
        let escaped = template.replace('~', "~0").replace('/', "~1");
        let mut response = self
            .doc
            .pointer(&format!("/paths/{escaped}/get/responses/{status}"))
            .unwrap_or_else(|| panic!("GET {template} documents no {status} answer"));
        if let Some(reference) = response.get("$ref").and_then(Value::as_str) {
            response = self.resolve(reference);
        }
        response
            .pointer("/content/application~1json/schema")
            .unwrap_or_else(|| panic!("GET {template} {status} has no JSON schema"))
            .clone()
    }

    #[track_caller]
    pub fn assert_response(&self, schema: &Value, body: &Value) {
        self.assert_valid(schema, body);
    }

    /// A named schema from `components.schemas`.
    pub fn schema(&self, name: &str) -> &Value {
        self.doc
            .pointer(&format!("/components/schemas/{name}"))
            .unwrap_or_else(|| panic!("no schema {name} in the vendored excerpt"))
    }

    /// The request body schema of `PUT /applications/{application_id}/commands`.
    pub fn bulk_overwrite_body(&self) -> &Value {
        let pointer = format!(
            "/paths/{}/put/requestBody/content/application~1json/schema",
            BULK_OVERWRITE_PATH.replace('~', "~0").replace('/', "~1")
        );
        self.doc.pointer(&pointer).expect("bulk-overwrite request body schema")
    }

    /// The path every operation's URL starts with (`/api/v10`), from `servers`.
    pub fn base_path(&self) -> &str {
        let url = self.doc.pointer("/servers/0/url").and_then(Value::as_str).expect("servers[0].url");
        let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
        after_scheme.find('/').map_or("", |slash| &after_scheme[slash..])
    }

    /// The operation `method` on `path` (relative to [`Self::base_path`]) is, by the excerpt's
    /// path templates; literal segments win over parameters (`/users/@me` over `/users/{id}`).
    pub fn operation(&self, method: &str, path: &str) -> Result<Operation<'_>, String> {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let paths = self.doc["paths"].as_object().expect("paths");
        let (template, item, params) = paths
            .iter()
            .filter_map(|(template, item)| {
                let params = match_template(template, &segments)?;
                Some((template, item, params))
            })
            .max_by_key(|(template, _, params)| template.split('/').count() - params.len())
            .ok_or_else(|| format!("no operation has the path {path}"))?;
        let op = item
            .get(method.to_ascii_lowercase())
            .ok_or_else(|| format!("{method} is not an operation of {template}"))?;
        Ok(Operation { template, path_item: item, op, params })
    }

    /// The JSON request body schema of `operation`, if it takes one.
    pub fn request_body<'a>(&self, operation: &Operation<'a>) -> Option<&'a Value> {
        operation.op.pointer("/requestBody/content/application~1json/schema")
    }

    /// Whether `operation` requires a request body.
    pub fn body_required(&self, operation: &Operation<'_>) -> bool {
        operation.op.pointer("/requestBody/required") == Some(&Value::Bool(true))
    }

    /// Every path parameter of `operation` that its schema (a snowflake, for ours) refuses.
    pub fn path_violations(&self, operation: &Operation<'_>) -> Vec<String> {
        let declared = [operation.path_item.get("parameters"), operation.op.get("parameters")];
        let mut errors = Vec::new();
        for (name, value) in &operation.params {
            let schema = declared
                .iter()
                .flatten()
                .filter_map(|list| list.as_array())
                .flatten()
                .find(|p| p["in"] == "path" && p["name"] == name.as_str())
                .map(|p| &p["schema"]);
            match schema {
                Some(schema) => errors.extend(
                    self.violations(schema, &Value::String(value.clone()))
                        .into_iter()
                        .map(|e| format!("path parameter {name}: {e}")),
                ),
                None => errors.push(format!("path parameter {name} is not declared")),
            }
        }
        errors
    }

    /// Every violation of `schema` by `instance`, as `path: problem` lines (empty when valid).
    pub fn violations(&self, schema: &Value, instance: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        self.check(schema, instance, "$", &mut errors);
        errors
    }

    #[track_caller]
    pub fn assert_valid(&self, schema: &Value, instance: &Value) {
        let errors = self.violations(schema, instance);
        assert!(errors.is_empty(), "{} violations:\n{}\nin {instance:#}", errors.len(), errors.join("\n"));
    }

    fn resolve(&self, reference: &str) -> &Value {
        let pointer = reference.strip_prefix('#').unwrap_or_else(|| panic!("external $ref {reference}"));
        self.doc.pointer(pointer).unwrap_or_else(|| panic!("dangling $ref {reference}"))
    }

    fn check(&self, schema: &Value, instance: &Value, path: &str, errors: &mut Vec<String>) {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            self.check(self.resolve(reference), instance, path, errors);
        }
        if let Some(types) = schema.get("type") {
            let allowed: Vec<&str> = match types {
                Value::String(t) => vec![t.as_str()],
                Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                _ => panic!("unexpected `type` {types}"),
            };
            if !allowed.iter().any(|t| has_type(instance, t)) {
                errors.push(format!("{path}: expected {allowed:?}, got {instance}"));
                return;
            }
        }
        if let Some(options) = schema.get("enum").and_then(Value::as_array)
            && !options.iter().any(|o| same(o, instance))
        {
            errors.push(format!("{path}: {instance} is not one of {options:?}"));
        }
        if let Some(constant) = schema.get("const")
            && !same(constant, instance)
        {
            errors.push(format!("{path}: {instance} is not {constant}"));
        }
        for sub in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
            self.check(sub, instance, path, errors);
        }
        if let Some(branches) = schema.get("oneOf").and_then(Value::as_array) {
            let matching = branches.iter().filter(|b| self.violations(b, instance).is_empty()).count();
            if matching != 1 {
                errors.push(format!(
                    "{path}: {instance} matches {matching} of the oneOf branches, not exactly 1"
                ));
            }
        }
        match instance {
            Value::String(text) => self.check_string(schema, text, path, errors),
            Value::Number(_) => check_range(schema, instance, path, errors),
            Value::Array(items) => self.check_array(schema, items, path, errors),
            Value::Object(_) => self.check_object(schema, instance, path, errors),
            Value::Null | Value::Bool(_) => {}
        }
    }

    fn check_string(&self, schema: &Value, text: &str, path: &str, errors: &mut Vec<String>) {
        let len = text.chars().count() as u64;
        if schema.get("minLength").and_then(Value::as_u64).is_some_and(|min| len < min) {
            errors.push(format!("{path}: {text:?} is shorter than minLength"));
        }
        if schema.get("maxLength").and_then(Value::as_u64).is_some_and(|max| len > max) {
            errors.push(format!("{path}: {text:?} is longer than maxLength"));
        }
        if let Some(pattern) = schema.get("pattern").and_then(Value::as_str)
            && !regex::Regex::new(pattern).expect("schema pattern is a regex").is_match(text)
        {
            errors.push(format!("{path}: {text:?} does not match {pattern}"));
        }
    }

    fn check_array(&self, schema: &Value, items: &[Value], path: &str, errors: &mut Vec<String>) {
        let len = items.len() as u64;
        if schema.get("minItems").and_then(Value::as_u64).is_some_and(|min| len < min) {
            errors.push(format!("{path}: fewer than minItems items"));
        }
        if schema.get("maxItems").and_then(Value::as_u64).is_some_and(|max| len > max) {
            errors.push(format!("{path}: more than maxItems items"));
        }
        if schema.get("uniqueItems") == Some(&Value::Bool(true))
            && items.iter().enumerate().any(|(i, a)| items[..i].iter().any(|b| same(a, b)))
        {
            errors.push(format!("{path}: items are not unique"));
        }
        if let Some(item_schema) = schema.get("items") {
            for (i, item) in items.iter().enumerate() {
                self.check(item_schema, item, &format!("{path}[{i}]"), errors);
            }
        }
    }

    fn check_object(&self, schema: &Value, instance: &Value, path: &str, errors: &mut Vec<String>) {
        let object = instance.as_object().expect("checked by caller");
        for required in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
            let key = required.as_str().expect("required names are strings");
            if !object.contains_key(key) {
                errors.push(format!("{path}: missing required field `{key}`"));
            }
        }
        if schema.get("maxProperties").and_then(Value::as_u64).is_some_and(|max| object.len() as u64 > max) {
            errors.push(format!("{path}: more than maxProperties fields"));
        }
        let declared = schema.get("properties").and_then(Value::as_object);
        for (key, value) in object {
            let child = format!("{path}.{key}");
            match (declared.and_then(|d| d.get(key)), schema.get("additionalProperties")) {
                (Some(property), _) => self.check(property, value, &child, errors),
                (None, Some(Value::Bool(false))) => errors.push(format!("{child}: not allowed")),
                (None, Some(extra @ Value::Object(_))) => self.check(extra, value, &child, errors),
                // Undeclared fields are not an error in the schema, but they are in our
                // definitions: a typo'd field would be silently ignored by Discord.
                (None, _) if declared.is_some() => {
                    errors.push(format!("{child}: not a field of this schema"))
                }
                (None, _) => {}
            }
        }
    }
}

/// An operation found for a concrete request.
#[derive(Debug)]
pub struct Operation<'a> {
    /// The path template, as in the excerpt (`/channels/{channel_id}/messages`).
    pub template: &'a str,
    pub path_item: &'a Value,
    pub op: &'a Value,
    /// The path parameters' values by name.
    pub params: BTreeMap<String, String>,
}

impl Operation<'_> {
    pub fn id(&self) -> &str {
        self.op["operationId"].as_str().unwrap_or("?")
    }
}

/// The parameters of `template` if `segments` fit it.
fn match_template(template: &str, segments: &[&str]) -> Option<BTreeMap<String, String>> {
    let parts: Vec<&str> = template.trim_start_matches('/').split('/').collect();
    if parts.len() != segments.len() {
        return None;
    }
    let mut params = BTreeMap::new();
    for (part, segment) in parts.iter().zip(segments) {
        match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            Some(name) if !segment.is_empty() => {
                params.insert(name.to_string(), segment.to_string());
            }
            Some(_) => return None,
            None if part == segment => {}
            None => return None,
        }
    }
    Some(params)
}

fn check_range(schema: &Value, instance: &Value, path: &str, errors: &mut Vec<String>) {
    let value = instance.as_f64().expect("numbers convert to f64");
    if schema.get("minimum").and_then(Value::as_f64).is_some_and(|min| value < min) {
        errors.push(format!("{path}: {instance} is below minimum"));
    }
    if schema.get("maximum").and_then(Value::as_f64).is_some_and(|max| value > max) {
        errors.push(format!("{path}: {instance} is above maximum"));
    }
}

fn has_type(instance: &Value, kind: &str) -> bool {
    match kind {
        "null" => instance.is_null(),
        "boolean" => instance.is_boolean(),
        "string" => instance.is_string(),
        "array" => instance.is_array(),
        "object" => instance.is_object(),
        "number" => instance.is_number(),
        "integer" => {
            instance.is_i64() || instance.is_u64() || instance.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        other => panic!("unknown JSON Schema type {other}"),
    }
}

/// JSON equality where `1` and `1.0` are the same number, as JSON Schema defines it.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}
