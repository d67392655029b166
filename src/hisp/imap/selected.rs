//! The commands of the selected state and SELECT/EXAMINE itself: opening INBOX with its
//! untagged data, FETCH, STORE and SEARCH (and their UID forms). Each returns the tagged
//! completion to send, or `None` when the connection is gone.

use super::command::{Item, Key, SeqSet, Store, StoreMode};
use super::mailbox::{self, Flag, Selected};
use super::{FLAGS, Io, State, fetch, say};
use crate::hisp::{Core, Fault};

/// SELECT (read-write) or EXAMINE (read-only) of INBOX; `named` is false for any other name.
pub(super) async fn select(
    core: &Core,
    io: &mut Io<'_>,
    state: &mut State,
    tag: &str,
    named: bool,
    read_only: bool,
) -> Option<String> {
    let faults = core.faults();
    let user = state.user().unwrap_or_default().to_string();
    // Selecting closes the mailbox selected before, without expunging (§6.3.1).
    *state = State::Authenticated { user: user.clone() };
    let verb = if read_only { "EXAMINE" } else { "SELECT" };
    if !named {
        return Some(format!(
            "{tag} NO [NONEXISTENT] no such mailbox: only INBOX is served"
        ));
    }
    let unstable = faults.on(Fault::ImapUnstableUids);
    let sel = match mailbox::open(&core.maildir, &user, read_only, unstable) {
        Err(e) => return Some(format!("{tag} NO [SERVERBUG] {e}")),
        Ok(sel) => sel,
    };
    say(io, &format!("* FLAGS {FLAGS}")).await?;
    say(io, &format!("* {} EXISTS", sel.exists())).await?;
    say(io, &format!("* {} RECENT", sel.recent())).await?;
    if let Some(n) = sel.first_unseen() {
        say(io, &format!("* OK [UNSEEN {n}] first unseen")).await?;
    }
    let permanent = if read_only { "()" } else { FLAGS };
    say(io, &format!("* OK [PERMANENTFLAGS {permanent}] flags kept")).await?;
    if !faults.on(Fault::ImapSelectNoUidvalidity) {
        say(
            io,
            &format!("* OK [UIDVALIDITY {}] UIDs valid", sel.validity),
        )
        .await?;
        say(io, &format!("* OK [UIDNEXT {}] next UID", sel.uidnext)).await?;
    }
    let mode = if read_only { "READ-ONLY" } else { "READ-WRITE" };
    *state = State::Selected { user, sel };
    Some(format!("{tag} OK [{mode}] {verb} completed"))
}

/// FETCH and UID FETCH: one untagged FETCH per message; a message another session expunged
/// meanwhile is left out, the others are still served.
pub(super) async fn fetch(
    core: &Core,
    io: &mut Io<'_>,
    sel: &mut Selected,
    tag: &str,
    set: &SeqSet,
    items: &[Item],
    uid: bool,
) -> Option<String> {
    let drop = core.faults().on(Fault::ImapFetchDropsAttachments);
    let found = match fetch::resolve(sel, set, uid) {
        Err(why) => return Some(format!("{tag} BAD {why}")),
        Ok(found) => found,
    };
    let mut gone = 0;
    for i in found {
        match fetch::fetch(&core.maildir, sel, i, items, uid, drop) {
            Ok(f) => {
                if !io.send(&f.bytes, &f.shown).await {
                    return None;
                }
            }
            Err(fetch::FetchError::Gone) => gone += 1,
            Err(fetch::FetchError::No(why)) => return Some(format!("{tag} NO [CANNOT] {why}")),
        }
    }
    Some(if gone > 0 {
        format!("{tag} OK FETCH completed ({gone} message(s) expunged meanwhile)")
    } else {
        format!("{tag} OK FETCH completed")
    })
}

/// STORE and UID STORE of the system flags (kept in the Maildir file names).
pub(super) async fn store(
    core: &Core,
    io: &mut Io<'_>,
    sel: &mut Selected,
    tag: &str,
    st: &Store,
) -> Option<String> {
    if sel.read_only {
        return Some(format!("{tag} NO [READ-ONLY] mailbox is read-only"));
    }
    let found = match fetch::resolve(sel, &st.set, st.uid) {
        Err(why) => return Some(format!("{tag} BAD {why}")),
        Ok(found) => found,
    };
    for i in found {
        let now = Flag::ALL.into_iter().filter(|f| sel.messages[i].has(*f));
        let next: Vec<Flag> = match st.mode {
            StoreMode::Replace => st.flags.clone(),
            StoreMode::Add => now.chain(st.flags.iter().copied()).collect(),
            StoreMode::Remove => now.filter(|f| !st.flags.contains(f)).collect(),
        };
        let letters: String = next.iter().map(|f| f.letter()).collect();
        sel.set_letters(&core.maildir, i, &letters);
        if !st.silent {
            let m = &sel.messages[i];
            let uid_part = if st.uid {
                format!(" UID {}", m.uid)
            } else {
                String::new()
            };
            let line = format!("* {} FETCH (FLAGS {}{uid_part})", i + 1, m.flag_list());
            say(io, &line).await?;
        }
    }
    Some(format!("{tag} OK STORE completed"))
}

/// SEARCH and UID SEARCH: the numbers (or UIDs) of the matching messages.
pub(super) async fn search(
    io: &mut Io<'_>,
    sel: &Selected,
    tag: &str,
    key: &Key,
    uid: bool,
) -> Option<String> {
    let mut hits = Vec::new();
    for i in 0..sel.messages.len() {
        match fetch::matches(sel, i, key) {
            Ok(true) => hits.push(if uid {
                sel.messages[i].uid.to_string()
            } else {
                (i + 1).to_string()
            }),
            Ok(false) => {}
            Err(why) => return Some(format!("{tag} NO [CANNOT] {why}")),
        }
    }
    let list: String = hits.iter().map(|h| format!(" {h}")).collect();
    say(io, &format!("* SEARCH{list}")).await?;
    Some(format!("{tag} OK SEARCH completed"))
}
