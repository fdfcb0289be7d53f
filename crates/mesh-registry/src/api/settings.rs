//! Handlers for config, mode, contexts and `/v1/metadata/*`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use mesh_schema::CompatibilityLevel;
use serde::Deserialize;
use serde_json::json;

use super::{Body, Params, Shared, ok};
use crate::error::RegistryError;
use crate::model::{Config, Metadata, Mode, RuleSet};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route(
            "/config",
            get(get_global_config)
                .put(put_global_config)
                .delete(delete_global_config),
        )
        .route(
            "/config/{subject}",
            get(get_config).put(put_config).delete(delete_config),
        )
        .route(
            "/mode",
            get(get_global_mode)
                .put(put_global_mode)
                .delete(delete_global_mode),
        )
        .route(
            "/mode/{subject}",
            get(get_mode).put(put_mode).delete(delete_mode),
        )
        .route("/contexts", get(contexts))
        .route("/v1/metadata/id", get(metadata_id))
        .route("/v1/metadata/version", get(metadata_version))
        .route("/v1/metadata/deployment", get(metadata_deployment))
}

type Result<T = Response> = std::result::Result<T, RegistryError>;

/// `PUT /config` body: Confluent's ConfigUpdateRequest (`compatibility`, not `compatibilityLevel`).
#[derive(Debug, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct ConfigUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    alias: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    normalize: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    validate_fields: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    compatibility: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    compatibility_group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    default_metadata: Option<Metadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    override_metadata: Option<Metadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    default_rule_set: Option<RuleSet>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    override_rule_set: Option<RuleSet>,
}

impl ConfigUpdate {
    fn into_config(self) -> Result<(Config, serde_json::Value)> {
        let level = self
            .compatibility
            .as_deref()
            .map(|l| {
                l.parse::<CompatibilityLevel>()
                    .map_err(|_| RegistryError::InvalidCompatibilityLevel)
            })
            .transpose()?;
        // The response echoes the request, with the level spelled canonically.
        let mut echo = serde_json::to_value(&self).unwrap_or_else(|_| json!({}));
        if let Some(l) = level {
            echo["compatibility"] = json!(l.as_str());
        }
        Ok((
            Config {
                alias: self.alias,
                normalize: self.normalize,
                validate_fields: self.validate_fields,
                compatibility_level: level,
                compatibility_group: self.compatibility_group,
                default_metadata: self.default_metadata,
                override_metadata: self.override_metadata,
                default_rule_set: self.default_rule_set,
                override_rule_set: self.override_rule_set,
            },
            echo,
        ))
    }
}

async fn get_global_config(State(s): State<Shared>, p: Params) -> Response {
    ok(&s.registry.config(None, p.flag("defaultToGlobal")))
}

async fn put_global_config(State(s): State<Shared>, body: Body) -> Result {
    let (config, echo) = body.json::<ConfigUpdate>()?.into_config()?;
    s.registry.set_config(None, config).await?;
    Ok(ok(&echo))
}

async fn delete_global_config(State(s): State<Shared>) -> Result {
    Ok(ok(&s.registry.delete_config(None).await?))
}

async fn get_config(State(s): State<Shared>, Path(subject): Path<String>, p: Params) -> Result {
    s.registry
        .config(Some(&subject), p.flag("defaultToGlobal"))
        .map(|c| ok(&c))
        .ok_or(RegistryError::SubjectConfigNotFound(subject))
}

#[tracing::instrument(skip_all, fields(subject = %subject))]
async fn put_config(State(s): State<Shared>, Path(subject): Path<String>, body: Body) -> Result {
    let (config, echo) = body.json::<ConfigUpdate>()?.into_config()?;
    s.registry.set_config(Some(&subject), config).await?;
    Ok(ok(&echo))
}

async fn delete_config(State(s): State<Shared>, Path(subject): Path<String>) -> Result {
    Ok(ok(&s.registry.delete_config(Some(&subject)).await?))
}

#[derive(Debug, Deserialize)]
struct ModeUpdate {
    mode: String,
}

fn parse_mode(body: Body) -> Result<Mode> {
    let m: ModeUpdate = body.json()?;
    m.mode.parse().map_err(|_| RegistryError::InvalidMode)
}

async fn get_global_mode(State(s): State<Shared>) -> Response {
    ok(&json!({"mode": s.registry.mode(None, true)}))
}

async fn put_global_mode(State(s): State<Shared>, p: Params, body: Body) -> Result {
    let mode = parse_mode(body)?;
    s.registry.set_mode(None, mode, p.flag("force")).await?;
    Ok(ok(&json!({"mode": mode})))
}

async fn delete_global_mode(State(s): State<Shared>) -> Result {
    Ok(ok(&json!({"mode": s.registry.delete_mode(None).await?})))
}

async fn get_mode(State(s): State<Shared>, Path(subject): Path<String>, p: Params) -> Result {
    s.registry
        .mode(Some(&subject), p.flag("defaultToGlobal"))
        .map(|m| ok(&json!({"mode": m})))
        .ok_or(RegistryError::SubjectModeNotFound(subject))
}

#[tracing::instrument(skip_all, fields(subject = %subject))]
async fn put_mode(
    State(s): State<Shared>,
    Path(subject): Path<String>,
    p: Params,
    body: Body,
) -> Result {
    let mode = parse_mode(body)?;
    s.registry
        .set_mode(Some(&subject), mode, p.flag("force"))
        .await?;
    Ok(ok(&json!({"mode": mode})))
}

async fn delete_mode(State(s): State<Shared>, Path(subject): Path<String>) -> Result {
    Ok(ok(
        &json!({"mode": s.registry.delete_mode(Some(&subject)).await?}),
    ))
}

/// Only the default context exists in this part (subjects are not context-qualified yet).
async fn contexts(p: Params) -> Response {
    ok(&p.page(vec!["."]))
}

async fn metadata_id(State(s): State<Shared>) -> Response {
    ok(&json!({
        "scope": {
            "path": [],
            "clusters": {"kafka-cluster": s.cluster_id, "schema-registry-cluster": "schema-registry"}
        },
        "id": s.cluster_id,
    }))
}

async fn metadata_version() -> Response {
    ok(&json!({"version": env!("CARGO_PKG_VERSION"), "commitId": "unknown"}))
}

async fn metadata_deployment() -> Response {
    super::reply(StatusCode::OK, &json!({"attributes": ["mesh"]}))
}
