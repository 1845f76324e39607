use store::*;

use crate::support::each_backend;

fn user(id: &str, name: &str) -> UserRow {
    UserRow {
        id: id.into(),
        name: name.into(),
        email: None,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        created_at: 1,
        failed_logins: 0,
        locked_until: None,
        disabled: false,
    }
}

fn policy(id: &str, name: &str) -> IamPolicyRow {
    IamPolicyRow {
        id: id.into(),
        name: name.into(),
        description: String::new(),
        system: false,
        document: r#"{"Version":"1.1","Statement":[]}"#.into(),
        created_at: 1,
        updated_at: 1,
    }
}

#[tokio::test]
async fn users_are_unique_by_name_and_lock_after_failures() {
    each_backend(|s, _| async move {
        s.create_user(&user("u1", "alice")).await.unwrap();
        let err = s.create_user(&user("u2", "alice")).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
        assert_eq!(s.user_by_name("alice").await.unwrap().unwrap().id, "u1");
        assert!(s.user_by_name("bob").await.unwrap().is_none());

        for _ in 0..4 {
            assert!(s.take_login_attempt("u1", 1000, 5, 60_000).await.unwrap());
            assert_eq!(s.user("u1").await.unwrap().unwrap().locked_until, None);
        }
        assert!(s.take_login_attempt("u1", 1000, 5, 60_000).await.unwrap(), "the fifth try goes on");
        let u = s.user("u1").await.unwrap().unwrap();
        assert_eq!((u.failed_logins, u.locked_until), (5, Some(61_000)));
        assert!(!s.take_login_attempt("u1", 60_999, 5, 60_000).await.unwrap(), "locked");
        assert_eq!(s.user("u1").await.unwrap().unwrap().failed_logins, 5, "a refused try is not counted");
        assert!(s.take_login_attempt("u1", 61_000, 5, 60_000).await.unwrap(), "the lock expired");
        s.reset_login_failures("u1").await.unwrap();
        let u = s.user("u1").await.unwrap().unwrap();
        assert_eq!((u.failed_logins, u.locked_until), (0, None));
    })
    .await;
}

#[tokio::test]
async fn a_users_policies_come_from_the_user_and_its_groups() {
    each_backend(|s, _| async move {
        s.create_user(&user("u1", "alice")).await.unwrap();
        s.create_user(&user("u2", "bob")).await.unwrap();
        for (id, name) in [("p1", "direct"), ("p2", "via-group"), ("p3", "unrelated")] {
            s.create_iam_policy(&policy(id, name)).await.unwrap();
        }
        s.create_group(&GroupRow {
            id: "g1".into(),
            name: "ops".into(),
            description: String::new(),
            created_at: 1,
            members: vec![],
        })
        .await
        .unwrap();
        assert!(s.set_membership("g1", "u1", true).await.unwrap());
        assert!(!s.set_membership("g1", "u1", true).await.unwrap(), "second add is a no-op");
        s.set_attachment("p1", &Principal::User("u1".into()), true).await.unwrap();
        s.set_attachment("p2", &Principal::Group("g1".into()), true).await.unwrap();
        s.set_attachment("p3", &Principal::User("u2".into()), true).await.unwrap();

        let names = |v: Vec<IamPolicyRow>| v.into_iter().map(|p| p.name).collect::<Vec<_>>();
        assert_eq!(names(s.policies_of_user("u1").await.unwrap()), ["direct", "via-group"]);
        assert_eq!(s.group("g1").await.unwrap().unwrap().members, ["u1"]);

        s.set_membership("g1", "u1", false).await.unwrap();
        assert_eq!(names(s.policies_of_user("u1").await.unwrap()), ["direct"]);
        s.delete_user("u1").await.unwrap();
        assert!(s.policies_of_user("u1").await.unwrap().is_empty());
        assert!(s.delete_iam_policy("p3").await.unwrap());
        assert!(s.policies_of_user("u2").await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn tokens_are_found_by_hash_and_revoked_once() {
    each_backend(|s, _| async move {
        s.create_user(&user("u1", "alice")).await.unwrap();
        let t = TokenRow {
            id: "t1".into(),
            user_id: "u1".into(),
            kind: TokenKind::Api,
            name: "ci".into(),
            secret_hash: "ab".repeat(32),
            scope: r#"["cgs:*:list"]"#.into(),
            created_at: 1,
            expires_at: 2,
            revoked_at: None,
            csrf_hash: None,
        };
        s.create_token(&t).await.unwrap();
        assert_eq!(s.token_by_hash(&"ab".repeat(32)).await.unwrap().unwrap(), t);
        assert_eq!(s.list_tokens("u1", TokenKind::Api).await.unwrap().len(), 1);
        assert!(s.list_tokens("u1", TokenKind::Session).await.unwrap().is_empty());
        assert!(s.revoke_token("t1", 5).await.unwrap());
        assert!(!s.revoke_token("t1", 6).await.unwrap());
        assert_eq!(s.token_by_hash(&"ab".repeat(32)).await.unwrap().unwrap().revoked_at, Some(5));
    })
    .await;
}

#[tokio::test]
async fn lists_page_and_sort() {
    each_backend(|s, _| async move {
        for i in 0..7 {
            s.create_user(&user(&format!("u{i}"), &format!("user{}", 6 - i))).await.unwrap();
        }
        let page = PageReq { limit: 3, offset: 3, sort: Some("name".into()), descending: false };
        let (users, total) = s.list_users(&page).await.unwrap();
        assert_eq!(total, 7);
        assert_eq!(users.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(), ["user3", "user4", "user5"]);
        let page = PageReq { limit: 2, offset: 0, sort: Some("name".into()), descending: true };
        let (users, _) = s.list_users(&page).await.unwrap();
        assert_eq!(users[0].name, "user6");
    })
    .await;
}
