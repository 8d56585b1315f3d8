//! The answer to a deferred interaction: Discord's "edit original interaction response" webhook,
//! made through the same client, rate limiter and pacer as every other request.

use async_trait::async_trait;
use serde::de::IgnoredAny;
use serde_json::json;
use serenity::all::ApplicationId;
use serenity::http::{LightMethod, Request, Route};

use super::DiscordRest;
use super::error::RestError;
use super::message::{MAX_CONTENT, truncate};
use crate::interactions::endpoint::FollowUp;
use crate::interactions::handler::Reply;

impl DiscordRest {
    /// `PATCH /webhooks/{application_id}/{token}/messages/@original` with the reply's content.
    pub async fn edit_original(
        &self,
        application_id: &str,
        token: &str,
        reply: &Reply,
    ) -> Result<(), RestError> {
        let application_id =
            application_id.parse::<u64>().ok().filter(|id| *id > 0).map(ApplicationId::new).ok_or_else(
                || RestError::Invalid(format!("application id {application_id:?} is not a Discord id")),
            )?;
        if token.is_empty() || !token.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) {
            return Err(RestError::Invalid("the interaction token is empty or malformed".into()));
        }
        // Never ping anyone from an answer: mentions quote operators, they do not call them.
        let body = json!({
            "content": truncate(&reply.content, MAX_CONTENT),
            "allowed_mentions": { "parse": [] },
        });
        let body = serde_json::to_vec(&body).map_err(|e| RestError::Invalid(e.to_string()))?;
        let route = Route::WebhookOriginalInteractionResponse { application_id, token };
        let _: IgnoredAny = self.fire(Request::new(route, LightMethod::Patch).body(Some(body))).await?;
        Ok(())
    }
}

#[async_trait]
impl FollowUp for DiscordRest {
    async fn edit_original(&self, application_id: &str, token: &str, reply: &Reply) -> Result<(), String> {
        DiscordRest::edit_original(self, application_id, token, reply).await.map_err(|e| e.to_string())
    }
}
