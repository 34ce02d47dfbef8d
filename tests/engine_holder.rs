//! The holder in a real bottle, attacked from inside it: its socket is the
//! agent's alone, the token is on no command line (not the holder's, not a
//! viewer's) and in no file, and the holder cannot be replaced.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed step should stop the test where it happened

mod common;

use claude_bottle::docker::bottle;
use claude_bottle::docker::container::exec_collect;
use claude_bottle::docker::holder;

const TOKEN: &str = "sk-ant-oat01-holder-test-token-not-real";

#[tokio::test]
async fn the_holder_keeps_the_token_and_the_terminal_to_the_agent() {
    let engine = common::engine().await;
    let settings = common::launch_settings().await;
    let resolved = common::outside_agent("holder", &["allowed.test"]);
    let b = bottle::launch(&engine, &resolved, &[], &settings, &mut |_| {})
        .await
        .unwrap();
    let agent = b.agent_container.clone();
    let run = |user: Option<&'static str>, script: &'static str| {
        let (engine, agent) = (engine.clone(), agent.clone());
        async move {
            exec_collect(&engine, &agent, user, &["sh", "-c", script], vec![])
                .await
                .unwrap()
        }
    };
    let env = vec![
        format!("CLAUDE_CODE_OAUTH_TOKEN={TOKEN}"),
        "TERM=xterm-256color".to_owned(),
    ];
    holder::serve(&engine, &agent, &["sh".into()], env, (24, 80))
        .await
        .unwrap();
    let status = holder::status(&engine, &agent).await.unwrap().unwrap();
    assert_eq!(status.exited, None);

    // The agent's own claude has the token; no command line in the bottle
    // does, and no file the holder made.
    let own = run(
        None,
        "cat /proc/$(pgrep -f 'hold serve' | head -1)/environ | tr '\\0' '\\n'",
    )
    .await;
    assert!(own.stdout.contains(TOKEN), "{own:?}");
    let argv = run(
        None,
        "for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline; echo; done",
    )
    .await;
    assert!(
        argv.stdout
            .contains("claude-bottle-hold serve --size 24x80 -- sh"),
        "{argv:?}"
    );
    assert!(!argv.stdout.contains(TOKEN), "{argv:?}");
    let files = run(
        None,
        "ls -la /tmp/claude-bottle-hold; grep -rl holder-test-token /tmp /home 2>/dev/null; true",
    )
    .await;
    assert!(files.stdout.contains("drwx------"), "{files:?}");
    assert!(!files.stdout.contains("holder-test-token"), "{files:?}");

    // Another uid in the bottle reaches neither the socket nor the holder's
    // environment.
    let other = run(
        Some("1001:1001"),
        "/usr/local/bin/claude-bottle-hold status; ls /tmp/claude-bottle-hold 2>&1; \
         cat /proc/$(pgrep -f 'hold serve' | head -1)/environ 2>&1 | tr '\\0' '\\n'",
    )
    .await;
    assert!(other.stdout.starts_with("null"), "{other:?}");
    assert!(other.stdout.contains("Permission denied"), "{other:?}");
    assert!(!other.stdout.contains(TOKEN), "{other:?}");

    // The holder is root's: the agent cannot swap it for its own.
    let swap = run(None, "echo x > /usr/local/bin/claude-bottle-hold; stat -c '%U %a' /usr/local/bin/claude-bottle-hold").await;
    assert!(swap.stdout.contains("root 755"), "{swap:?}");
    assert!(swap.stderr.contains("Permission denied"), "{swap:?}");

    // Neither the container's stored config nor any exec's shows the token.
    let inspect = engine.docker.inspect_container(&agent, None).await.unwrap();
    assert!(!format!("{inspect:?}").contains(TOKEN));
    for exec in inspect.exec_ids.unwrap_or_default() {
        let shown = engine.docker.inspect_exec(&exec).await.unwrap();
        assert!(!format!("{shown:?}").contains(TOKEN), "{shown:?}");
    }
    b.teardown(&engine).await.unwrap();
}
