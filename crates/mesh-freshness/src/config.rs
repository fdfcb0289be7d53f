//! `[freshness]` in mesh.toml.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FreshnessConfig {
    /// HTTP API, /metrics and /health (port 0 = any free port).
    pub listen: SocketAddr,
    /// Where resolved contracts are read from.
    pub contracts_topic: String,
    /// Where alert events are written (Avro, schemas/mesh-alert.avsc).
    pub alerts_topic: String,
    /// The gateway's heartbeats and data-loss reports (`mesh_contract::events`); empty = off.
    pub progress_topic: String,
    /// A heartbeat younger than this stands for its partition without reading the broker.
    #[serde(with = "humantime_serde")]
    pub heartbeat_max_age: Duration,
    /// A reported data loss keeps its alert firing this long.
    #[serde(with = "humantime_serde")]
    pub data_loss_hold: Duration,
    /// How often every product is observed and evaluated: a breach is seen at most this late.
    #[serde(with = "humantime_serde")]
    pub check_interval: Duration,
    /// Every product's every partition is re-read at least this often; in between, only
    /// partitions that could cross a threshold within two check intervals (or have an alert,
    /// or an unusual status) are. See docs/freshness.md, "Cost".
    #[serde(with = "humantime_serde")]
    pub full_refresh: Duration,
    /// Record timestamps further in the future than this are a clock-skew condition.
    #[serde(with = "humantime_serde")]
    pub clock_skew_tolerance: Duration,
    /// A firing alert clears only below its threshold × (1 − hysteresis).
    pub hysteresis: f64,
    /// ... and only after staying clear this long.
    #[serde(with = "humantime_serde")]
    pub resolve_after: Duration,
    /// A group with lag whose committed offsets have not moved for this long is `stopped`.
    #[serde(with = "humantime_serde")]
    pub group_stopped_after: Duration,
    /// Consumer groups to measure, by product id. Read on every broker.
    pub groups: BTreeMap<String, Vec<String>>,
    /// Also list the broker's groups (ListGroups; not on the librdkafka mock).
    pub discover_groups: bool,
    /// Runbook URL when the contract has none; `{product}` and `{kind}` are replaced.
    pub runbook_template: String,
    /// Timeout of each broker request.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    pub webhook: WebhookConfig,
    pub shard: ShardConfig,
}

impl Default for FreshnessConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8096)),
            contracts_topic: "_mesh.contracts".into(),
            alerts_topic: "_mesh.alerts".into(),
            progress_topic: "_mesh.progress".into(),
            heartbeat_max_age: Duration::from_secs(5),
            data_loss_hold: Duration::from_secs(3600),
            check_interval: Duration::from_millis(500),
            full_refresh: Duration::from_secs(10),
            clock_skew_tolerance: Duration::from_secs(5),
            hysteresis: 0.1,
            resolve_after: Duration::from_secs(30),
            group_stopped_after: Duration::from_secs(300),
            groups: BTreeMap::new(),
            discover_groups: true,
            runbook_template: "https://runbooks.example.invalid/mesh/{kind}?product={product}"
                .into(),
            request_timeout: Duration::from_secs(5),
            webhook: WebhookConfig::default(),
            shard: ShardConfig::default(),
        }
    }
}

/// An Alertmanager-compatible receiver (webhook payload version 4).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookConfig {
    /// `None` = no webhook.
    pub url: Option<String>,
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// Retries after the first attempt (5xx, 429 and transport errors).
    pub max_retries: u32,
    /// First retry delay; doubles each retry.
    #[serde(with = "humantime_serde")]
    pub initial_backoff: Duration,
    /// Firing alerts are re-sent this often (receivers expire alerts not re-sent).
    #[serde(with = "humantime_serde")]
    pub resend_interval: Duration,
    /// Alertmanager's `receiver` field.
    pub receiver: String,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            url: None,
            timeout: Duration::from_secs(5),
            max_retries: 5,
            initial_backoff: Duration::from_millis(200),
            resend_interval: Duration::from_secs(300),
            receiver: "mesh".into(),
        }
    }
}

/// Splitting products between instances: instance `index` of `count` evaluates the products
/// whose id hashes to it (docs/freshness.md, "Several instances").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ShardConfig {
    pub index: u32,
    pub count: u32,
}

impl Default for ShardConfig {
    fn default() -> Self {
        Self { index: 0, count: 1 }
    }
}

impl ShardConfig {
    /// Whether this instance owns `product_id` (FNV-1a, stable across builds).
    pub fn owns(&self, product_id: &str) -> bool {
        if self.count <= 1 {
            return true;
        }
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in product_id.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        (h % u64::from(self.count)) as u32 == self.index
    }
}

impl FreshnessConfig {
    /// Checks what serde cannot.
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..1.0).contains(&self.hysteresis) {
            return Err(format!(
                "freshness.hysteresis must be in [0, 1), got {}",
                self.hysteresis
            ));
        }
        if self.check_interval.is_zero() {
            return Err("freshness.check_interval must be positive".into());
        }
        if let Some(url) = &self.webhook.url {
            match reqwest::Url::parse(url) {
                Ok(u) if matches!(u.scheme(), "http" | "https") => {}
                Ok(u) => {
                    return Err(format!(
                        "freshness.webhook.url must be http(s), got scheme `{}`",
                        u.scheme()
                    ));
                }
                Err(e) => return Err(format!("freshness.webhook.url `{url}`: {e}")),
            }
        }
        if self.shard.count == 0 || self.shard.index >= self.shard.count {
            return Err(format!(
                "freshness.shard.index ({}) must be below shard.count ({})",
                self.shard.index, self.shard.count
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_key() {
        assert!(FreshnessConfig::default().validate().is_ok());
        let mut c = FreshnessConfig::default();
        c.webhook.url = Some("not a url".into());
        assert!(c.validate().unwrap_err().contains("freshness.webhook.url"));
        let c = FreshnessConfig {
            hysteresis: 1.5,
            ..FreshnessConfig::default()
        };
        assert!(c.validate().unwrap_err().contains("hysteresis"));
        let c = FreshnessConfig {
            shard: ShardConfig { index: 2, count: 2 },
            ..FreshnessConfig::default()
        };
        assert!(c.validate().unwrap_err().contains("shard"));
    }

    #[test]
    fn shards_split_products_exactly_once() {
        let shards: Vec<ShardConfig> = (0..3)
            .map(|index| ShardConfig { index, count: 3 })
            .collect();
        for i in 0..200 {
            let id = format!("domain{i}.product");
            assert_eq!(shards.iter().filter(|s| s.owns(&id)).count(), 1, "{id}");
        }
    }
}
