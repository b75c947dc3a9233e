//! `chirp serve` serves the web site and the API from one address: an
//! unknown page is the site's 404 page (HTML with its Content-Security-
//! Policy), an unknown `/api/...` path the API's JSON 404.

use crate::server::{Backend, Server, free_port, fresh_database};

#[tokio::test]
async fn unknown_pages_get_the_sites_404_and_unknown_api_paths_the_apis() {
    let dir = tempfile::tempdir().expect("dir");
    let url = fresh_database(Backend::Sqlite, dir.path()).await;
    let server = Server::start(&url, dir.path(), free_port()).await;
    let client = reqwest::Client::new();

    let page = client
        .get(format!("{}/no-such-page", server.base))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status().as_u16(), 404);
    let csp = page.headers().get("content-security-policy").cloned();
    let kind = page.headers().get("content-type").cloned();
    let body = page.text().await.expect("body");
    assert!(csp.is_some(), "the 404 page has no CSP");
    assert!(
        kind.is_some_and(|k| k.to_str().is_ok_and(|k| k.starts_with("text/html"))),
        "{body}"
    );
    assert!(body.contains("Not found"), "{body}");

    let api = client
        .get(format!("{}/api/no/such/route", server.base))
        .send()
        .await
        .expect("api");
    assert_eq!(api.status().as_u16(), 404);
    let json: serde_json::Value = api.json().await.expect("json");
    assert_eq!(json["error"]["code"], "not_found");

    // The real routes of both are still there.
    for path in ["/", "/api/tweets", "/logs", "/healthz", "/api/docs/"] {
        let status = client
            .get(format!("{}{path}", server.base))
            .send()
            .await
            .expect("get")
            .status();
        assert_eq!(status.as_u16(), 200, "{path}");
    }
}
