//! Tokens signed in one place: the `AuthTokenPublicKeys` custom resource turns the signing secret
//! into public keys, the only key material the verifying functions hold.

use data_api_local::secrets::VERSION_ID;
use functions::auth_keys::KeyPublisher;
use harness::TestDataApi;
use harness::data_api::secrets_client;
use harness::response_url::ResponseUrl;
use serde_json::{Value, json};
use shared::auth::{Claims, TokenSigner, TokenVerifier};

const SECRET_ARN: &str = "arn:aws:secretsmanager:us-east-1:000000000000:secret:auth-tokens";
const OLD: &str = "the old signing secret, 64 characters in production";
const NEW: &str = "the new signing secret, 64 characters in production";

fn request(request_type: &str, url: &str, secret_arn: &str) -> Value {
    let properties = json!({"ServiceToken": "x", "SecretArn": secret_arn, "KeyGeneration": "2"});
    update(request_type, url, properties.clone(), properties)
}

/// A request with `properties`, and `old` ones for an update.
fn update(request_type: &str, url: &str, properties: Value, old: Value) -> Value {
    let mut event = json!({
        "RequestType": request_type,
        "ServiceToken": "arn:aws:lambda:us-east-1:000000000000:function:auth-keys",
        "ResponseURL": url,
        "StackId": "arn:aws:cloudformation:us-east-1:000000000000:stack/budget/1",
        "RequestId": format!("req-{request_type}"),
        "LogicalResourceId": "AuthTokenPublicKeys",
        "ResourceType": "AWS::CloudFormation::CustomResource",
        "ResourceProperties": properties,
    });
    if request_type != "Create" {
        event["PhysicalResourceId"] = json!(format!(
            "{}/{VERSION_ID}",
            functions::auth_keys::PHYSICAL_RESOURCE_ID
        ));
        event["OldResourceProperties"] = old;
    }
    event
}

/// The auth-keys function, its Secrets Manager (the emulator's) holding `secret` at
/// [`SECRET_ARN`]; the emulator lives as long as the first value.
async fn publisher_of(secret: Value) -> (TestDataApi, KeyPublisher) {
    let api = TestDataApi::start_with(|config| {
        config
            .secret_strings
            .insert(SECRET_ARN.into(), secret.to_string());
    })
    .await
    .unwrap();
    let publisher = KeyPublisher {
        secrets: secrets_client(&api.endpoint()),
        http: reqwest::Client::new(),
    };
    (api, publisher)
}

fn claims() -> Claims {
    let now = chrono::Utc::now();
    Claims {
        sub: shared::domain::UserId::new(),
        hid: shared::domain::HouseholdId::new(),
        sid: shared::domain::TokenFamilyId::new(),
        role: shared::domain::Role::Owner,
        iat: now.timestamp(),
        exp: now.timestamp() + 60,
        jti: "j".into(),
        iss: functions::app::TOKEN_ISSUER.into(),
    }
}

#[tokio::test]
async fn the_public_keys_resource_verifies_both_sides_of_a_rotation_and_reveals_no_secret() {
    let url = ResponseUrl::start().await;
    let (_api, publisher) = publisher_of(json!({"current": NEW, "previous": OLD, "next": "none"})).await;
    let unknown = "arn:aws:secretsmanager:us-east-1:000000000000:secret:nowhere";
    for (kind, arn) in [("Create", SECRET_ARN), ("Update", unknown), ("Delete", unknown)] {
        publisher.handle(request(kind, &url.url, arn)).await.unwrap();
    }
    let responses = url.responses();
    assert_eq!(responses.len(), 3);

    let created = &responses[0];
    assert_eq!(created["Status"], "SUCCESS", "{created}");
    // The version the issuers read their key at, also in the physical id: a new version is a new
    // resource, so a rollback keeps the old keys.
    assert_eq!(created["Data"]["SecretVersionId"], VERSION_ID);
    assert_eq!(
        created["PhysicalResourceId"],
        format!("{}/{VERSION_ID}", functions::auth_keys::PHYSICAL_RESOURCE_ID)
    );
    let text = created.to_string();
    assert!(!text.contains(OLD) && !text.contains(NEW), "no secret in {text}");
    let keys = created["Data"]["PublicKeys"].as_str().unwrap();
    let verifier = TokenVerifier::from_list(keys, functions::app::TOKEN_ISSUER).unwrap();
    for signing in [NEW, OLD] {
        let signer = TokenSigner::new(signing.as_bytes(), functions::app::TOKEN_ISSUER).unwrap();
        let token = signer.sign(&claims()).unwrap();
        assert!(verifier.verify(&token).is_ok(), "signed by {signing:?}");
    }
    let stranger = TokenSigner::new(
        b"a key that was never in the secret!!",
        functions::app::TOKEN_ISSUER,
    )
    .unwrap();
    assert!(verifier.verify(&stranger.sign(&claims()).unwrap()).is_err());

    let failed = &responses[1];
    assert_eq!(failed["Status"], "FAILED");
    assert!(
        failed["Reason"]
            .as_str()
            .unwrap()
            .contains("ResourceNotFoundException"),
        "{failed}"
    );
    assert_eq!(
        responses[2]["Status"], "SUCCESS",
        "a delete never blocks the stack"
    );
}

#[tokio::test]
async fn a_rollback_is_answered_from_the_version_its_physical_id_names() {
    // CloudFormation rolls a failed update back with another update (KeyGeneration going down);
    // the answer must come from the version the resource had, not from whatever the secret holds
    // now (a broken hand edit would otherwise fail the rollback too: UPDATE_ROLLBACK_FAILED).
    let url = ResponseUrl::start().await;
    let (_api, publisher) = publisher_of(json!({"current": NEW, "previous": "none", "next": "none"})).await;
    let at =
        |generation: &str| json!({"ServiceToken": "x", "SecretArn": SECRET_ARN, "KeyGeneration": generation});
    let mut rollback = update("Update", &url.url, at("1"), at("2"));
    publisher.handle(rollback.clone()).await.unwrap();
    rollback["PhysicalResourceId"] = json!(format!(
        "{}/a-version-that-is-gone",
        functions::auth_keys::PHYSICAL_RESOURCE_ID
    ));
    publisher.handle(rollback).await.unwrap();
    let responses = url.responses();
    assert_eq!(responses[0]["Status"], "SUCCESS", "{}", responses[0]);
    assert_eq!(responses[0]["Data"]["SecretVersionId"], VERSION_ID);
    assert_eq!(
        responses[1]["Status"], "FAILED",
        "read at the pinned version: {}",
        responses[1]
    );
}
