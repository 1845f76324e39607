//! Every way a policy document is rejected, with the message that names the offending part.

use iam::{
    Action, ActionPattern, Effect, Location, MAX_ACTIONS_PER_STATEMENT, MAX_DOCUMENT_BYTES, MAX_STATEMENTS,
    PatternError, PolicyDocument, PolicyError, Statement,
};

use crate::common::{policy, rejected};

/// A document whose statements are the given JSON texts.
fn with_statements(statements: &[&str]) -> String {
    format!(r#"{{"Version":"1.1","Statement":[{}]}}"#, statements.join(","))
}

/// A document with one Allow statement whose `Action` is the given JSON text.
fn with_action_list(actions: &str) -> String {
    with_statements(&[&format!(r#"{{"Effect":"Allow","Action":{actions}}}"#)])
}

/// Checks the error and its message.
fn check(json: &str, expected: PolicyError, message: &str) {
    let error = rejected(json);
    assert_eq!(error, expected, "{json}");
    assert_eq!(error.to_string(), message, "{json}");
}

#[test]
fn version_must_be_the_string_1_1() {
    check(
        r#"{"Statement":[{"Effect":"Allow","Action":["*"]}]}"#,
        PolicyError::MissingKey { location: Location::Document, key: "Version" },
        r#"policy: required key "Version" is missing"#,
    );
    check(
        r#"{"Version":"1.0","Statement":[{"Effect":"Allow","Action":["*"]}]}"#,
        PolicyError::UnsupportedVersion { found: r#""1.0""#.into() },
        r#"policy: "Version" must be "1.1", found "1.0""#,
    );
    check(
        r#"{"Version":1.1,"Statement":[{"Effect":"Allow","Action":["*"]}]}"#,
        PolicyError::UnsupportedVersion { found: "a number".into() },
        r#"policy: "Version" must be "1.1", found a number"#,
    );
}

#[test]
fn statement_must_be_a_non_empty_array_of_objects() {
    check(
        r#"{"Version":"1.1"}"#,
        PolicyError::MissingKey { location: Location::Document, key: "Statement" },
        r#"policy: required key "Statement" is missing"#,
    );
    check(
        r#"{"Version":"1.1","Statement":{"Effect":"Allow","Action":["*"]}}"#,
        PolicyError::StatementNotArray { found: "an object" },
        r#"policy: "Statement" must be an array of statements, found an object"#,
    );
    check(
        r#"{"Version":"1.1","Statement":[]}"#,
        PolicyError::NoStatements,
        r#"policy: "Statement" is empty; a policy needs at least one statement"#,
    );
    check(
        &with_statements(&[r#"{"Effect":"Allow","Action":["*"]}"#, r#""cgs:cluster:list""#]),
        PolicyError::NotAnObject { location: Location::Statement(1), found: "a string" },
        "statement 2 must be a JSON object, found a string",
    );
}

#[test]
fn statement_count_is_limited() {
    let statement = r#"{"Effect":"Allow","Action":["cgs:cluster:list"]}"#;
    let at_limit = with_statements(&vec![statement; MAX_STATEMENTS]);
    assert_eq!(policy(&at_limit).statements().len(), MAX_STATEMENTS);
    check(
        &with_statements(&vec![statement; MAX_STATEMENTS + 1]),
        PolicyError::TooManyStatements { count: 101, limit: 100 },
        r#"policy: "Statement" has 101 statements; the limit is 100"#,
    );
}

#[test]
fn effect_is_exactly_allow_or_deny() {
    check(
        &with_statements(&[r#"{"Effect":"allow","Action":["*"]}"#]),
        PolicyError::InvalidEffect { statement: 0, found: r#""allow""#.into() },
        r#"statement 1: "Effect" must be "Allow" or "Deny" (case-sensitive), found "allow""#,
    );
    check(
        &with_statements(&[r#"{"Effect":"Allow","Action":["*"]}"#, r#"{"Effect":"Refuse","Action":["*"]}"#]),
        PolicyError::InvalidEffect { statement: 1, found: r#""Refuse""#.into() },
        r#"statement 2: "Effect" must be "Allow" or "Deny" (case-sensitive), found "Refuse""#,
    );
    check(
        &with_statements(&[r#"{"Effect":true,"Action":["*"]}"#]),
        PolicyError::InvalidEffect { statement: 0, found: "a boolean".into() },
        r#"statement 1: "Effect" must be "Allow" or "Deny" (case-sensitive), found a boolean"#,
    );
    check(
        &with_statements(&[r#"{"Action":["*"]}"#]),
        PolicyError::MissingKey { location: Location::Statement(0), key: "Effect" },
        r#"statement 1: required key "Effect" is missing"#,
    );
}

#[test]
fn action_is_a_non_empty_array_of_strings() {
    check(
        &with_statements(&[r#"{"Effect":"Deny"}"#]),
        PolicyError::MissingKey { location: Location::Statement(0), key: "Action" },
        r#"statement 1: required key "Action" is missing"#,
    );
    check(
        &with_action_list(r#""cgs:cluster:list""#),
        PolicyError::ActionNotArray { statement: 0, found: "a string" },
        r#"statement 1: "Action" must be an array of action strings, found a string"#,
    );
    check(
        &with_action_list("[]"),
        PolicyError::NoActions { statement: 0 },
        r#"statement 1: "Action" is empty; a statement needs at least one action"#,
    );
    check(
        &with_action_list(r#"["cgs:cluster:list", 7]"#),
        PolicyError::ActionNotString { statement: 0, action: 1, found: "a number" },
        "statement 1, action 2: must be a string, found a number",
    );
    check(
        &with_action_list(r#"["cgs:cluster:list", null]"#),
        PolicyError::ActionNotString { statement: 0, action: 1, found: "null" },
        "statement 1, action 2: must be a string, found null",
    );
}

#[test]
fn action_count_is_limited() {
    let entries = |count: usize| serde_json::to_string(&vec!["cgs:cluster:list"; count]).unwrap();
    let at_limit = policy(&with_action_list(&entries(MAX_ACTIONS_PER_STATEMENT)));
    assert_eq!(at_limit.statements()[0].actions().len(), MAX_ACTIONS_PER_STATEMENT);
    check(
        &with_action_list(&entries(MAX_ACTIONS_PER_STATEMENT + 1)),
        PolicyError::TooManyActions { statement: 0, count: 201, limit: 200 },
        r#"statement 1: "Action" has 201 entries; the limit is 200"#,
    );
}

/// The pattern error of a one-action policy, with the message checked.
fn check_action(action: &str, expected: PatternError, message: &str) {
    let json = with_action_list(&serde_json::to_string(&[action]).unwrap());
    check(&json, PolicyError::InvalidAction { statement: 0, action: 0, source: expected.clone() }, message);
    // The same rule applies to a pattern on its own.
    assert_eq!(ActionPattern::parse(action), Err(expected));
}

#[test]
fn action_patterns_have_three_parts_of_letters_digits_and_stars() {
    check_action(
        "",
        PatternError::Empty,
        r#"statement 1, action 1: the action is empty; expected "service:resource:verb", "service:*" or "*""#,
    );
    check_action(
        "cgs:cluster",
        PatternError::Malformed { pattern: "cgs:cluster".into() },
        r#"statement 1, action 1: "cgs:cluster" is not of the form "service:resource:verb", "service:*" or "*""#,
    );
    check_action(
        "cgs:cluster:list:all",
        PatternError::Malformed { pattern: "cgs:cluster:list:all".into() },
        r#"statement 1, action 1: "cgs:cluster:list:all" is not of the form "service:resource:verb", "service:*" or "*""#,
    );
    check_action(
        "cgs*",
        PatternError::Malformed { pattern: "cgs*".into() },
        r#"statement 1, action 1: "cgs*" is not of the form "service:resource:verb", "service:*" or "*""#,
    );
    check_action(
        "cgs::list",
        PatternError::EmptyPart { pattern: "cgs::list".into(), part: 2 },
        r#"statement 1, action 1: "cgs::list": part 2 is empty (expected "service:resource:verb")"#,
    );
    check_action(
        "cgs:cluster:li st",
        PatternError::InvalidCharacter { pattern: "cgs:cluster:li st".into(), character: ' ', position: 15 },
        r#"statement 1, action 1: "cgs:cluster:li st": character ' ' at position 15 is not allowed (an action holds ASCII letters, digits, "*" and ":")"#,
    );
    check_action(
        "cgs:clüster:list",
        PatternError::InvalidCharacter { pattern: "cgs:clüster:list".into(), character: 'ü', position: 7 },
        r#"statement 1, action 1: "cgs:clüster:list": character 'ü' at position 7 is not allowed (an action holds ASCII letters, digits, "*" and ":")"#,
    );
    check_action(
        "cgs:cluster:list?",
        PatternError::InvalidCharacter { pattern: "cgs:cluster:list?".into(), character: '?', position: 17 },
        r#"statement 1, action 1: "cgs:cluster:list?": character '?' at position 17 is not allowed (an action holds ASCII letters, digits, "*" and ":")"#,
    );
}

#[test]
fn unknown_cgs_actions_are_typos_and_say_what_was_meant() {
    let json = with_statements(&[
        r#"{"Effect":"Allow","Action":["cgs:quota:list"]}"#,
        r#"{"Effect":"Deny","Action":["cgs:quota:get","cgs:images:list","cgs:cluster:lst"]}"#,
    ]);
    check(
        &json,
        PolicyError::InvalidAction {
            statement: 1,
            action: 2,
            source: PatternError::UnknownCgsAction {
                pattern: "cgs:cluster:lst".into(),
                suggestion: Some(Action::ClusterList),
            },
        },
        r#"statement 2, action 3: "cgs:cluster:lst" is not a cgs action (did you mean "cgs:cluster:list"?)"#,
    );
    check_action(
        "cgs:nodes:delete",
        PatternError::UnknownCgsAction { pattern: "cgs:nodes:delete".into(), suggestion: None },
        r#"statement 1, action 1: "cgs:nodes:delete" is not a cgs action"#,
    );
    // The service name is compared ignoring case too.
    check_action(
        "CGS:Images:Lst",
        PatternError::UnknownCgsAction { pattern: "CGS:Images:Lst".into(), suggestion: Some(Action::ImagesList) },
        r#"statement 1, action 1: "CGS:Images:Lst" is not a cgs action (did you mean "cgs:images:list"?)"#,
    );
    check_action(
        "cgs:*:delete",
        PatternError::MatchesNoCgsAction { pattern: "cgs:*:delete".into() },
        r#"statement 1, action 1: "cgs:*:delete" matches none of the cgs actions"#,
    );
}

#[test]
fn other_services_actions_are_accepted_but_never_match() {
    let document = crate::common::single("Allow", &["hss:commonIPs:set", "ecs:*", "obs:bucket:*", "xcgs:cluster:list"]);
    assert!(Action::ALL.into_iter().all(|action| !document.statements()[0].matches(action)));
}

#[test]
fn unknown_keys_are_not_supported() {
    check(
        &with_statements(&[r#"{"Effect":"Allow","Action":["*"],"Condition":{"StringEquals":{}}}"#]),
        PolicyError::UnsupportedKey { location: Location::Statement(0), key: "Condition".into() },
        r#"statement 1: key "Condition" is not supported (a statement holds only "Effect" and "Action")"#,
    );
    check(
        &with_statements(&[
            r#"{"Effect":"Allow","Action":["*"]}"#,
            r#"{"Effect":"Allow","Resource":["cgs:*:*:cluster:*"],"Action":["*"]}"#,
        ]),
        PolicyError::UnsupportedKey { location: Location::Statement(1), key: "Resource".into() },
        r#"statement 2: key "Resource" is not supported (a statement holds only "Effect" and "Action")"#,
    );
    check(
        r#"{"Version":"1.1","Id":"x","Statement":[{"Effect":"Allow","Action":["*"]}]}"#,
        PolicyError::UnsupportedKey { location: Location::Document, key: "Id".into() },
        r#"policy: key "Id" is not supported (a policy holds only "Version" and "Statement")"#,
    );
}

#[test]
fn keys_are_case_sensitive() {
    check(
        r#"{"version":"1.1","Statement":[{"Effect":"Allow","Action":["*"]}]}"#,
        PolicyError::UnsupportedKey { location: Location::Document, key: "version".into() },
        r#"policy: key "version" is not supported (keys are case-sensitive: did you mean "Version"?)"#,
    );
    check(
        &with_statements(&[r#"{"effect":"Allow","Action":["*"]}"#]),
        PolicyError::UnsupportedKey { location: Location::Statement(0), key: "effect".into() },
        r#"statement 1: key "effect" is not supported (keys are case-sensitive: did you mean "Effect"?)"#,
    );
}

#[test]
fn duplicate_keys_are_refused_rather_than_guessed() {
    check(
        &with_statements(&[r#"{"Effect":"Allow","Action":["*"],"Effect":"Deny"}"#]),
        PolicyError::DuplicateKey { location: Location::Statement(0), key: "Effect".into() },
        r#"statement 1: key "Effect" appears more than once"#,
    );
    check(
        r#"{"Version":"1.1","Statement":[{"Effect":"Deny","Action":["*"]}],"Statement":[{"Effect":"Allow","Action":["*"]}]}"#,
        PolicyError::DuplicateKey { location: Location::Document, key: "Statement".into() },
        r#"policy: key "Statement" appears more than once"#,
    );
}

#[test]
fn the_document_is_a_json_object() {
    check(
        "[]",
        PolicyError::NotAnObject { location: Location::Document, found: "an array" },
        "policy must be a JSON object, found an array",
    );
    check(
        "null",
        PolicyError::NotAnObject { location: Location::Document, found: "null" },
        "policy must be a JSON object, found null",
    );
    for broken in ["", "{", r#"{"Version": "1.1",}"#, r#"{"Version":"1.1"} trailing"#, "{'Version': '1.1'}"] {
        match rejected(broken) {
            PolicyError::Syntax { message } => assert!(message.contains("line 1 column"), "{broken}: {message}"),
            other => panic!("{broken}: {other:?}"),
        }
    }
    let error = rejected("{\n  \"Version\": \"1.1\"\n  \"Statement\": []\n}");
    assert_eq!(error.to_string(), "the policy is not valid JSON: expected `,` or `}` at line 3 column 3");
}

#[test]
fn the_document_size_is_limited() {
    let compact = r#"{"Version":"1.1","Statement":[{"Effect":"Allow","Action":["*"]}]}"#;
    let padded = |size: usize| format!("{compact}{}", " ".repeat(size - compact.len()));
    assert!(PolicyDocument::parse(&padded(MAX_DOCUMENT_BYTES)).is_ok());
    check(
        &padded(MAX_DOCUMENT_BYTES + 1),
        PolicyError::TooLarge { size: 65537, limit: 65536 },
        "the policy is 65537 bytes long; the limit is 65536 bytes",
    );
}

#[test]
fn long_input_is_shortened_in_messages() {
    let long = format!("hss:{}:set ", "a".repeat(10_000));
    let error = rejected(&with_action_list(&serde_json::to_string(&[&long]).unwrap()));
    let message = error.to_string();
    assert!(message.len() < 300, "{message}");
    assert!(message.contains("…"), "{message}");
    assert!(message.contains("position 10009"), "{message}");
}

#[test]
fn the_first_error_in_document_order_is_reported() {
    let json = with_statements(&[
        r#"{"Effect":"Allow","Action":["cgs:cluster:list","cgs:cluster:lst"]}"#,
        r#"{"Effect":"Nope","Action":[]}"#,
    ]);
    assert!(matches!(rejected(&json), PolicyError::InvalidAction { statement: 0, action: 1, .. }));
}

#[test]
fn documents_built_in_code_obey_the_same_limits() {
    let list = || vec![ActionPattern::exact(Action::ClusterList)];
    assert_eq!(PolicyDocument::new(vec![]), Err(PolicyError::NoStatements));
    assert_eq!(
        PolicyDocument::new(vec![Statement::new(Effect::Allow, list()); MAX_STATEMENTS + 1]),
        Err(PolicyError::TooManyStatements { count: 101, limit: 100 })
    );
    assert_eq!(
        PolicyDocument::new(vec![Statement::new(Effect::Allow, list()), Statement::new(Effect::Deny, vec![])]),
        Err(PolicyError::NoActions { statement: 1 })
    );
    let many = vec![ActionPattern::exact(Action::ClusterList); MAX_ACTIONS_PER_STATEMENT + 1];
    assert_eq!(
        PolicyDocument::new(vec![Statement::new(Effect::Allow, many)]),
        Err(PolicyError::TooManyActions { statement: 0, count: 201, limit: 200 })
    );
    // 200 patterns of about 400 characters: valid one by one, too large together.
    let long = ActionPattern::parse(&format!("hss:{}:set", "a".repeat(400))).unwrap();
    match PolicyDocument::new(vec![Statement::new(Effect::Allow, vec![long; MAX_ACTIONS_PER_STATEMENT])]) {
        Err(PolicyError::TooLarge { size, limit }) => assert!(size > limit, "{size} {limit}"),
        other => panic!("{other:?}"),
    }
}
