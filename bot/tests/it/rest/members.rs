//! Reading which of the engine's roles a member holds, for the role reconcile.

use std::time::Duration;

use sparta_bot::{DiscordAction, DiscordSink};

use super::double::{Double, DoubleConfig};
use super::harness::{ADMIN, HEALTHY, MEMBER_BASE, SEQUENCER, config, member, world};

#[tokio::test]
async fn member_roles_are_read_by_engine_name_and_a_stranger_holds_none() {
    let mut guild = world();
    guild.held.extend([(member(1), HEALTHY), (member(1), ADMIN), (member(2), SEQUENCER)]);
    let double = Double::start(DoubleConfig { world: guild, ..DoubleConfig::default() }).await;
    let rest = double.rest(config());
    tokio::time::timeout(Duration::from_secs(20), async {
        let one = rest.member_roles(&member(1).to_string()).await.unwrap();
        assert_eq!(one, Some(vec!["admin".to_owned(), "healthy".to_owned()]), "ids map back to names");
        let two = rest.member_roles(&member(2).to_string()).await.unwrap();
        assert_eq!(two, Some(vec!["sequencer".to_owned()]));
        let none = rest.member_roles(&member(3).to_string()).await.unwrap();
        assert_eq!(none, Some(Vec::new()));
        let stranger = rest.member_roles(&(MEMBER_BASE + 500).to_string()).await.unwrap();
        assert_eq!(stranger, Some(Vec::new()), "not in the guild: holds nothing");

        // What a delivery changes, the next read shows.
        let grant = DiscordAction::AddRole {
            user: member(3).to_string(),
            role: "healthy".into(),
            reason: "r".into(),
        };
        rest.deliver("k", &grant).await.unwrap();
        assert_eq!(
            rest.member_roles(&member(3).to_string()).await.unwrap(),
            Some(vec!["healthy".to_owned()])
        );
        assert!(rest.member_roles("not-an-id").await.is_err(), "a bad id is refused without a request");
    })
    .await
    .expect("answers within 20 s");
    assert_eq!(double.seen().violations, Vec::<String>::new(), "every request matched Discord's description");
}
