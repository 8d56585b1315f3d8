//! A small JSON Schema checker for the vendored excerpt of Discord's OpenAPI description: the
//! keywords that excerpt uses ($ref, type, properties, required, additionalProperties, items,
//! oneOf/allOf, enum/const, length, range and pattern bounds), reporting every violation by path.

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
