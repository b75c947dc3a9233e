//! The OpenAPI document's frame: title, tags and the bearer security scheme.
//! Paths and schemas come from the handlers' `#[utoipa::path]` annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "chirp",
        description = "A Twitter-like social network built to stay fast when it gets popular. \
                       Errors are `{\"error\": {\"code\", \"message\", \"field\"?}}`; lists are \
                       `{\"items\": [...], \"next_cursor\": \"...\" | null}`."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "accounts", description = "Sign-up, profiles, search"),
        (name = "sessions", description = "Log in and out"),
        (name = "tweets", description = "Post, read, edit, delete, reply"),
        (name = "likes", description = "The like button"),
        (name = "social", description = "Follow graph"),
        (name = "timelines", description = "Home and user timelines"),
        (name = "search", description = "Hashtags"),
        (name = "categories", description = "Topics to post in"),
        (name = "operations", description = "Health checks"),
    )
)]
pub struct ApiDoc;

/// Declares `Authorization: Bearer TOKEN` as the scheme named `bearer`.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A token from POST /api/sessions"))
                    .build(),
            ),
        );
    }
}
