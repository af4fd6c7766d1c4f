//! Which keys of two JSON documents differ, for messages that say exactly what changed.

/// The keys whose values differ between two JSON objects, recursively as `a.b`.
pub fn differing_keys(prefix: &str, a: &serde_json::Value, b: &serde_json::Value) -> Vec<String> {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .flat_map(|k| {
                    let path = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    let null = Value::Null;
                    differing_keys(&path, a.get(k).unwrap_or(&null), b.get(k).unwrap_or(&null))
                })
                .collect()
        }
        _ if a == b => vec![],
        _ => vec![prefix.to_string()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn differing_keys_names_each_changed_leaf() {
        let a = json!({"gamma": 0.99, "hidden": [128, 128], "env": {"id": "CartPole-v1"}});
        let b = json!({"gamma": 0.9, "hidden": [128, 128], "env": {"id": "Acrobot-v1"}, "x": 1});
        assert_eq!(differing_keys("", &a, &b), ["env.id", "gamma", "x"]);
        assert!(differing_keys("", &a, &a).is_empty());
    }
}
