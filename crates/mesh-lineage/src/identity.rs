//! Dataset identity: Kafka namespaces normalised to one cluster alias.
//!
//! OpenLineage names a Kafka topic `kafka://{first bootstrap server}` + topic, so clients listing
//! the same cluster's brokers in a different order (or another broker of it) produce different
//! namespaces and the graph fragments. Any namespace naming a broker of a configured cluster
//! becomes `kafka://{alias}`; an unknown Kafka namespace is canonicalised (lower-case hosts,
//! sorted, de-duplicated) so at least reorderings of the same list agree.

use std::collections::{BTreeMap, HashMap};

/// Maps `host:port` (lower-case) → cluster alias.
#[derive(Clone, Debug, Default)]
pub struct Namespaces {
    brokers: HashMap<String, String>,
    /// The cluster mesh runs on: a bare `kafka` namespace (no broker named, as the gateway
    /// writes) means it.
    home: Option<String>,
}

impl Namespaces {
    /// `clusters`: alias → bootstrap servers (`"host:port"`, or one comma-separated string).
    pub fn new(clusters: &BTreeMap<String, Vec<String>>) -> Self {
        let mut brokers = HashMap::new();
        for (alias, servers) in clusters {
            for s in servers.iter().flat_map(|s| split_servers(s)) {
                brokers.insert(s, alias.clone());
            }
        }
        Self {
            brokers,
            home: None,
        }
    }

    /// Maps the bare namespace `kafka` to `kafka://{alias}`.
    pub fn with_home(mut self, alias: &str) -> Self {
        self.home = Some(alias.to_owned());
        self
    }

    /// The namespace datasets of cluster `alias` get.
    pub fn kafka(alias: &str) -> String {
        format!("kafka://{alias}")
    }

    /// The canonical form of `namespace` (unchanged unless it is `kafka://...`).
    pub fn normalize(&self, namespace: &str) -> String {
        if let Some(home) = &self.home
            && (namespace.eq_ignore_ascii_case("kafka")
                || namespace.eq_ignore_ascii_case("kafka://"))
        {
            return Self::kafka(home);
        }
        let Some(rest) = namespace
            .strip_prefix("kafka://")
            .or_else(|| namespace.strip_prefix("KAFKA://"))
        else {
            return namespace.to_owned();
        };
        let rest = rest.trim_end_matches('/');
        let servers = split_servers(rest);
        if let Some(alias) = servers.iter().find_map(|s| self.brokers.get(s)) {
            return Self::kafka(alias);
        }
        // An alias used directly (`kafka://mesh`) is already canonical.
        if self.brokers.values().any(|a| a == rest) {
            return namespace.to_owned();
        }
        let mut servers = servers;
        servers.sort();
        servers.dedup();
        format!("kafka://{}", servers.join(","))
    }
}

/// `"b:2, A:1;c:3"` → `["b:2", "a:1", "c:3"]` (Flink splits on `,` or `;`).
fn split_servers(s: &str) -> Vec<String> {
    s.split([',', ';'])
        .map(|p| {
            let p = p.trim();
            let p = p
                .strip_prefix("PLAINTEXT://")
                .or_else(|| p.strip_prefix("SSL://"))
                .or_else(|| p.strip_prefix("SASL_SSL://"))
                .or_else(|| p.strip_prefix("SASL_PLAINTEXT://"))
                .unwrap_or(p);
            p.to_ascii_lowercase()
        })
        .filter(|p| !p.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_form_of_a_known_cluster_maps_to_its_alias() {
        let clusters = BTreeMap::from([(
            "prod".to_owned(),
            vec![
                "broker-1:9092,broker-2:9092".to_owned(),
                "Broker-3:9092".to_owned(),
            ],
        )]);
        let n = Namespaces::new(&clusters);
        for ns in [
            "kafka://broker-1:9092",
            "kafka://broker-2:9092,broker-1:9092",
            "kafka://broker-3:9092;broker-9:9092",
            "kafka://BROKER-1:9092/",
            "kafka://prod",
        ] {
            assert_eq!(n.normalize(ns), "kafka://prod", "{ns}");
        }
        assert_eq!(
            n.normalize("kafka://z:1,y:2"),
            n.normalize("kafka://y:2, Z:1"),
            "unknown clusters: order and case do not matter"
        );
        assert_eq!(n.normalize("postgres://db:5432"), "postgres://db:5432");
        assert_eq!(n.normalize("kafka"), "kafka", "no home cluster: left alone");
        let n = n.with_home("prod");
        assert_eq!(
            n.normalize("kafka"),
            "kafka://prod",
            "the gateway's bare namespace is the home cluster"
        );
    }
}
