//! Handlers for subjects, versions, schemas by id and the compatibility endpoints.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use serde_json::json;

use super::{Body, Params, Shared, ok};
use crate::error::RegistryError;
use crate::model::{Metadata, RuleSet, SchemaReference, SchemaType};
use crate::service::{SchemaFilter, SchemaRequest, SubjectFilter};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/schemas", get(list_schemas))
        .route("/schemas/types", get(schema_types))
        .route("/schemas/ids/{id}", get(schema_by_id))
        .route("/schemas/ids/{id}/schema", get(raw_schema_by_id))
        .route("/schemas/ids/{id}/subjects", get(id_subjects))
        .route("/schemas/ids/{id}/versions", get(id_versions))
        .route("/subjects", get(list_subjects))
        .route("/subjects/{subject}", post(lookup).delete(delete_subject))
        .route(
            "/subjects/{subject}/versions",
            get(list_versions).post(register),
        )
        .route(
            "/subjects/{subject}/versions/{version}",
            get(get_version).delete(delete_version),
        )
        .route(
            "/subjects/{subject}/versions/{version}/schema",
            get(raw_version),
        )
        .route(
            "/subjects/{subject}/versions/{version}/referencedby",
            get(referenced_by),
        )
        .route("/subjects/{subject}/metadata", get(by_metadata))
        .route(
            "/compatibility/subjects/{subject}/versions",
            post(compat_all),
        )
        .route(
            "/compatibility/subjects/{subject}/versions/{version}",
            post(compat_version),
        )
}

type Result<T = Response> = std::result::Result<T, RegistryError>;

/// Ids in URLs are ints; anything else cannot name a schema.
fn parse_id(id: &str) -> Result<i32> {
    id.parse().map_err(|_| RegistryError::SchemaNotFound)
}

async fn schema_types() -> Response {
    ok(&["JSON", "AVRO"])
}

#[tracing::instrument(skip_all)]
async fn list_schemas(State(s): State<Shared>, p: Params) -> Response {
    let f = SchemaFilter {
        prefix: p.get("subjectPrefix").map(str::to_owned),
        deleted: p.flag("deleted"),
        latest_only: p.flag("latestOnly"),
    };
    ok(&p.page(s.registry.schemas(&f)))
}

/// The body of `GET /schemas/ids/{id}`, borrowed from the state (no copy of the schema per
/// request). Keys in the order they always had (serde_json's sorted map).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SchemaById<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<&'a Metadata>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    references: &'a [SchemaReference],
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_set: Option<&'a RuleSet>,
    schema: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    schema_type: Option<SchemaType>,
    /// 8.x also names one subject/version using the id.
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<i32>,
}

#[tracing::instrument(skip_all, fields(id))]
async fn schema_by_id(State(s): State<Shared>, Path(id): Path<String>) -> Result {
    let id = parse_id(&id)?;
    let found = s.registry.with_schema_by_id(id, |schema, usage| {
        ok(&SchemaById {
            metadata: schema.metadata.as_ref(),
            references: &schema.references,
            rule_set: schema.rule_set.as_ref(),
            schema: &schema.schema,
            schema_type: s.registry.shown_schema_type(schema.schema_type),
            subject: usage.map(|(subject, _)| subject),
            version: usage.map(|(_, version)| version),
        })
    });
    crate::metrics::looked_up("id", found.is_ok());
    found
}

/// The schema text itself as the body (it is JSON already).
fn raw(text: String) -> Response {
    (
        StatusCode::OK,
        [(axum::http::header::CONTENT_TYPE, super::CONTENT_TYPE)],
        text,
    )
        .into_response()
}

async fn raw_schema_by_id(State(s): State<Shared>, Path(id): Path<String>) -> Result {
    let (schema, _) = s.registry.schema_by_id(parse_id(&id)?)?;
    Ok(raw(schema.schema))
}

async fn id_subjects(State(s): State<Shared>, Path(id): Path<String>, p: Params) -> Result {
    let mut subjects: Vec<String> = s
        .registry
        .id_usages(parse_id(&id)?, p.flag("deleted"))?
        .into_iter()
        .map(|(subject, _)| subject)
        .filter(|subject| p.get("subject").is_none_or(|f| f == subject))
        .collect();
    subjects.dedup();
    Ok(ok(&p.page(subjects)))
}

async fn id_versions(State(s): State<Shared>, Path(id): Path<String>, p: Params) -> Result {
    let versions: Vec<_> = s
        .registry
        .id_usages(parse_id(&id)?, p.flag("deleted"))?
        .into_iter()
        .filter(|(subject, _)| p.get("subject").is_none_or(|f| f == subject))
        .map(|(subject, version)| json!({"subject": subject, "version": version}))
        .collect();
    Ok(ok(&p.page(versions)))
}

#[tracing::instrument(skip_all)]
async fn list_subjects(State(s): State<Shared>, p: Params) -> Response {
    let f = SubjectFilter {
        prefix: p.get("subjectPrefix").map(str::to_owned),
        deleted: p.flag("deleted"),
        deleted_only: p.flag("deletedOnly"),
    };
    ok(&p.page(s.registry.subjects(&f)))
}

#[tracing::instrument(skip_all, fields(subject = %subject))]
async fn lookup(
    State(s): State<Shared>,
    Path(subject): Path<String>,
    p: Params,
    body: Body,
) -> Result {
    let req: SchemaRequest = body.json()?;
    let found = s
        .registry
        .lookup(&subject, &req, p.flag("normalize"), p.flag("deleted"));
    crate::metrics::looked_up("subject", found.is_ok());
    Ok(ok(&found?))
}

#[tracing::instrument(skip_all, fields(subject = %subject))]
async fn register(
    State(s): State<Shared>,
    Path(subject): Path<String>,
    p: Params,
    body: Body,
) -> Result {
    let req: SchemaRequest = body.json().map_err(|e| match e {
        RegistryError::Http {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            ..
        } => RegistryError::SchemaTooLarge,
        e => e,
    })?;
    let result = s
        .registry
        .register(&subject, req, p.flag("normalize"), p.flag("force"))
        .await;
    crate::metrics::registered(match &result {
        Ok(r) if r.new => "new",
        Ok(_) => "existing",
        Err(_) => "error",
    });
    let r = result?;
    let mut body = json!({"id": r.id});
    if s.registry.emit_avro_schema_type {
        body["version"] = json!(r.version);
    }
    Ok(ok(&body))
}

async fn delete_subject(State(s): State<Shared>, Path(subject): Path<String>, p: Params) -> Result {
    Ok(ok(&s
        .registry
        .delete_subject(&subject, p.flag("permanent"))
        .await?))
}

async fn list_versions(State(s): State<Shared>, Path(subject): Path<String>, p: Params) -> Result {
    let negative = p.flag("deletedAsNegative");
    let versions: Vec<i32> = s
        .registry
        .versions(
            &subject,
            p.flag("deleted") || negative,
            p.flag("deletedOnly"),
        )?
        .into_iter()
        .map(|(v, deleted)| if deleted && negative { -v } else { v })
        .collect();
    Ok(ok(&p.page(versions)))
}

#[tracing::instrument(skip_all, fields(subject = %subject, version = %version))]
async fn get_version(
    State(s): State<Shared>,
    Path((subject, version)): Path<(String, String)>,
    p: Params,
) -> Result {
    Ok(ok(&s.registry.version(
        &subject,
        &version,
        p.flag("deleted"),
    )?))
}

async fn raw_version(
    State(s): State<Shared>,
    Path((subject, version)): Path<(String, String)>,
    p: Params,
) -> Result {
    Ok(raw(s
        .registry
        .version(&subject, &version, p.flag("deleted"))?
        .schema))
}

async fn delete_version(
    State(s): State<Shared>,
    Path((subject, version)): Path<(String, String)>,
    p: Params,
) -> Result {
    Ok(ok(&s
        .registry
        .delete_version(&subject, &version, p.flag("permanent"))
        .await?))
}

async fn referenced_by(
    State(s): State<Shared>,
    Path((subject, version)): Path<(String, String)>,
    p: Params,
) -> Result {
    Ok(ok(&p.page(s.registry.referenced_by(&subject, &version)?)))
}

async fn by_metadata(State(s): State<Shared>, Path(subject): Path<String>, p: Params) -> Result {
    let pairs: Vec<(String, String)> = p.all("key").into_iter().zip(p.all("value")).collect();
    Ok(ok(&s.registry.by_metadata(
        &subject,
        &pairs,
        p.flag("deleted"),
    )?))
}

#[tracing::instrument(skip_all, fields(subject = %subject))]
async fn compat_all(
    State(s): State<Shared>,
    Path(subject): Path<String>,
    p: Params,
    body: Body,
) -> Result {
    let req: SchemaRequest = body.json()?;
    Ok(ok(&s.registry.check_compatibility(
        &subject,
        None,
        &req,
        p.flag("verbose"),
    )?))
}

#[tracing::instrument(skip_all, fields(subject = %subject, version = %version))]
async fn compat_version(
    State(s): State<Shared>,
    Path((subject, version)): Path<(String, String)>,
    p: Params,
    body: Body,
) -> Result {
    let req: SchemaRequest = body.json()?;
    Ok(ok(&s.registry.check_compatibility(
        &subject,
        Some(&version),
        &req,
        p.flag("verbose"),
    )?))
}
