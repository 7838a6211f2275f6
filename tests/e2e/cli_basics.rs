use crate::support::*;

#[test]
fn short_version_names_the_binary() {
    let out = std::process::Command::new(exo_bin()).arg("-V").output().unwrap();
    assert!(out.status.success());
    assert_eq!(stdout(&out).trim(), format!("exo {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn init_writes_config_and_gitignore_once_without_clobbering() {
    let vault = TestVault::plain();
    vault.write(".gitignore", "target/");
    let first = vault.exo_ok(["init"]);
    assert!(first.contains("wrote exo.toml"), "{first}");
    let config = std::fs::read_to_string(vault.root.join("exo.toml")).unwrap();
    assert!(config.contains("[links]"));
    let gitignore = std::fs::read_to_string(vault.root.join(".gitignore")).unwrap();
    assert!(gitignore.starts_with("target/\n"), "existing lines kept: {gitignore:?}");
    assert!(gitignore.lines().any(|l| l == ".exo/"));

    vault.write("exo.toml", "# mine\n");
    let second = vault.exo_ok(["init", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&second).unwrap();
    assert_eq!(json["config_written"], false);
    assert_eq!(json["gitignore_updated"], false);
    assert_eq!(std::fs::read_to_string(vault.root.join("exo.toml")).unwrap(), "# mine\n");
}

#[test]
fn parse_shows_what_exo_sees() {
    let vault = TestVault::plain();
    vault.exo_ok(["init"]);
    vault.write(
        "notes/a.md",
        "---\ntitle: Alpha\ntags: [x]\n---\n# Heading\n\nSee [[Beta|the beta]] and #inline.\n\n```\n[[not a link]]\n```\n",
    );
    let human = vault.exo_ok(["parse", "notes/a.md"]);
    assert!(human.starts_with("notes/a.md\n"), "{human}");
    assert!(human.contains("title     Alpha (from frontmatter)"), "{human}");
    assert!(human.contains("#x #inline"), "{human}");
    assert!(human.contains("wiki     Beta  \"the beta\""), "{human}");
    assert!(!human.contains("not a link"), "{human}");

    let json: serde_json::Value = serde_json::from_str(&vault.exo_ok(["parse", "--json", "notes/a.md"])).unwrap();
    assert_eq!(json["path"], "notes/a.md");
    assert_eq!(json["title"], "Alpha");
    assert_eq!(json["links"].as_array().unwrap().len(), 1);
    assert_eq!(json["links"][0]["line"], 7);
    assert_eq!(json["hash"].as_str().unwrap().len(), 64);
    assert!(json["chunk_texts"][0]["text"].as_str().unwrap().starts_with("# Heading"));
}

#[test]
fn errors_are_one_line_with_exit_code_2() {
    let vault = TestVault::plain();
    let out = vault.exo(["parse", "missing.md"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("missing.md"), "{err}");

    let out = vault.exo(["status"]);
    assert_eq!(out.status.code(), Some(2), "no vault here: {}", stderr(&out));
    assert!(stderr(&out).contains("--vault"), "{}", stderr(&out));
}

#[test]
fn bad_config_names_the_file() {
    let vault = TestVault::plain();
    vault.write("exo.toml", "notse = []\n");
    let out = vault.exo(["status"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("exo.toml") && err.contains("notse"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn vault_flag_and_env_select_the_vault() {
    let vault = TestVault::plain();
    vault.exo_ok(["init"]);
    vault.write("a.md", "# A");
    let elsewhere = tempfile::tempdir().unwrap();
    let out =
        vault.exo_cmd().current_dir(elsewhere.path()).args(["index", "--vault"]).arg(&vault.root).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = vault
        .exo_cmd()
        .current_dir(elsewhere.path())
        .env("EXO_ROOT", &vault.root)
        .args(["status", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn every_command_names_the_fix_for_a_missing_index() {
    // The fix is said by the face from a value the library returns, whichever library the
    // error came up through (the garden's reaches the index through exo-garden).
    let vault = TestVault::plain();
    vault.exo_ok(["init"]);
    vault.write("a.md", "# A\n");
    for args in [&["garden"][..], &["links", "a"][..], &["search", "a"][..], &["wander"][..]] {
        let out = vault.exo(args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("no index yet") && err.contains("run `exo index` first"), "{args:?}: {err}");
    }
}
