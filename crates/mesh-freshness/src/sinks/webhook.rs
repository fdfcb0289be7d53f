//! An Alertmanager-compatible webhook (payload version 4): what Alertmanager POSTs to its
//! webhook receivers, so anything that takes those (PagerDuty/Slack bridges, alertmanager's own
//! `/api/v2/alerts` shape aside) takes mesh's alerts. One payload per product per round,
//! grouped by `product`; firing and resolved alerts both sent; 5xx, 429 and transport errors
//! retried with doubling backoff.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::mpsc;

use crate::alerts::AlertState;
use crate::config::WebhookConfig;
use crate::metrics;
use crate::monitor::AlertEvent;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Payload {
    pub version: String,
    pub group_key: String,
    pub truncated_alerts: u32,
    pub status: String,
    pub receiver: String,
    pub group_labels: BTreeMap<String, String>,
    pub common_labels: BTreeMap<String, String>,
    pub common_annotations: BTreeMap<String, String>,
    #[serde(rename = "externalURL")]
    pub external_url: String,
    pub alerts: Vec<WebhookAlert>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookAlert {
    pub status: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub starts_at: String,
    pub ends_at: String,
    #[serde(rename = "generatorURL")]
    pub generator_url: String,
    pub fingerprint: String,
}

/// The payloads for a round of events: firing and (previously firing) resolved alerts,
/// silenced ones left out, grouped by product.
pub fn payloads(events: &[AlertEvent], receiver: &str, external_url: &str) -> Vec<Payload> {
    let mut by_product: BTreeMap<&str, Vec<WebhookAlert>> = BTreeMap::new();
    for e in events {
        let t = &e.transition;
        let alerts = by_product.entry(&t.key.product_id).or_default();
        let mut annotations = BTreeMap::new();
        annotations.insert("summary".to_owned(), e.summary.clone());
        annotations.insert("description".to_owned(), e.description.clone());
        annotations.insert("runbook_url".to_owned(), e.runbook_url.clone());
        let generator_url = format!("{external_url}/api/v1/freshness/{}", t.key.product_id);
        let alert =
            |status: &str, labels: BTreeMap<String, String>, ends: Option<i64>| WebhookAlert {
                status: status.to_owned(),
                labels,
                annotations: annotations.clone(),
                starts_at: rfc3339(t.starts_at_ms),
                ends_at: ends.map_or_else(|| "0001-01-01T00:00:00Z".to_owned(), rfc3339),
                generator_url: generator_url.clone(),
                fingerprint: t.fingerprint.clone(),
            };
        match t.state {
            AlertState::Firing if !e.silenced => {
                if let Some(prev) = t.previous_severity {
                    // Label-keyed receivers see the old severity end and the new one begin.
                    let mut old = e.labels.clone();
                    old.insert("severity".into(), prev.as_str().into());
                    alerts.push(alert("resolved", old, Some(t.at_ms)));
                }
                alerts.push(alert("firing", e.labels.clone(), None));
            }
            AlertState::Resolved if t.was_firing => {
                alerts.push(alert("resolved", e.labels.clone(), Some(t.at_ms)));
            }
            _ => {}
        }
    }
    by_product
        .into_iter()
        .filter(|(_, a)| !a.is_empty())
        .map(|(product, alerts)| {
            let mut group_labels = BTreeMap::new();
            group_labels.insert("product".to_owned(), product.to_owned());
            let status = if alerts.iter().any(|a| a.status == "firing") {
                "firing"
            } else {
                "resolved"
            };
            Payload {
                version: "4".into(),
                group_key: format!("{{}}:{{product=\"{product}\"}}"),
                truncated_alerts: 0,
                status: status.into(),
                receiver: receiver.to_owned(),
                common_labels: common(alerts.iter().map(|a| &a.labels)),
                common_annotations: common(alerts.iter().map(|a| &a.annotations)),
                group_labels,
                external_url: external_url.to_owned(),
                alerts,
            }
        })
        .collect()
}

fn common<'a>(
    mut maps: impl Iterator<Item = &'a BTreeMap<String, String>>,
) -> BTreeMap<String, String> {
    let Some(first) = maps.next() else {
        return BTreeMap::new();
    };
    let mut out = first.clone();
    for m in maps {
        out.retain(|k, v| m.get(k) == Some(v));
    }
    out
}

pub use mesh_runtime::time::rfc3339_millis as rfc3339;

/// Delivers payloads in order on a background task, retrying failures.
#[derive(Clone, Debug)]
pub struct Webhook {
    tx: mpsc::UnboundedSender<Payload>,
}

impl Webhook {
    /// Starts the delivery task under `shutdown`.
    pub fn start(url: String, config: &WebhookConfig, shutdown: &mesh_runtime::Shutdown) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<Payload>();
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .unwrap_or_default();
        let (retries, backoff) = (config.max_retries, config.initial_backoff);
        let token = shutdown.token();
        shutdown.spawn("freshness-webhook", async move {
            loop {
                let payload = tokio::select! {
                    p = rx.recv() => match p { Some(p) => p, None => break },
                    () = token.cancelled() => break,
                };
                deliver(&client, &url, &payload, retries, backoff).await;
            }
        });
        Self { tx }
    }

    pub fn send(&self, payloads: Vec<Payload>) {
        for p in payloads {
            let _ = self.tx.send(p);
        }
    }
}

async fn deliver(
    client: &reqwest::Client,
    url: &str,
    p: &Payload,
    retries: u32,
    backoff: Duration,
) {
    let mut delay = backoff;
    for attempt in 0..=retries {
        let outcome = match client.post(url).json(p).send().await {
            Ok(r) if r.status().is_success() => {
                metrics::webhook_delivery("delivered");
                return;
            }
            Ok(r) if r.status().is_client_error() && r.status().as_u16() != 429 => {
                tracing::error!(status = %r.status(), url, "webhook refused the alert payload; dropped");
                metrics::webhook_delivery("refused");
                return;
            }
            Ok(r) => format!("HTTP {}", r.status()),
            Err(e) => e.to_string(),
        };
        metrics::webhook_delivery("retried");
        tracing::warn!(%outcome, attempt, url, "webhook delivery failed");
        if attempt < retries {
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(60));
        }
    }
    metrics::webhook_delivery("failed");
}

#[cfg(test)]
mod tests {
    use super::rfc3339;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }
}
