//! The search index's part of the contract: documents are versioned by their listing's version,
//! so an older write never overtakes a newer one, while a rewrite at the same version (a
//! calendar change) applies; a removal is a versioned write too.

use chrono::NaiveDate;

use super::{listing, user, Must};
use crate::domain::listing::ListingStatus;
use crate::domain::search_index::IndexChange;
use crate::testing::InspectIndex;

pub async fn search_index(index: &impl InspectIndex) -> Result<(), String> {
    let mut l = listing(&user()?)?;
    l.version = 2;
    let day = |d: &str| d.parse::<NaiveDate>().must("a day");
    let write = |change: IndexChange| async move {
        let outcomes = index.apply(std::slice::from_ref(&change)).await.must("the index answers")?;
        outcomes.into_iter().next().must("one outcome")?.must("the change is accepted")
    };
    let unavailable = |doc: &serde_json::Value| doc["unavailable"].as_array().map(Vec::len).unwrap_or(0);

    write(IndexChange::of(&l, vec![day("2026-12-01")?], Default::default())).await?;
    let (version, doc) = index.document(&l.id).await?.must("the written document")?;
    assert_eq!((version, unavailable(&doc)), (2, 1), "written at the listing's version");

    let mut older = l.clone();
    older.version = 1;
    older.title = "Older title".into();
    write(IndexChange::of(&older, vec![], Default::default())).await?;
    let (_, doc) = index.document(&l.id).await?.must("still there")?;
    assert_eq!(doc["title"], l.title.as_str(), "an older version does not overtake");

    write(IndexChange::of(&l, vec![day("2026-12-01")?, day("2026-12-03")?], Default::default())).await?;
    let (_, doc) = index.document(&l.id).await?.must("still there")?;
    assert_eq!(unavailable(&doc), 2, "the same version rewritten: a calendar change applies");

    let mut paused = l.clone();
    paused.version = 3;
    paused.status = ListingStatus::Paused;
    write(IndexChange::of(&paused, vec![], Default::default())).await?;
    assert_eq!(index.document(&l.id).await?, None, "not active: removed");
    write(IndexChange::of(&l, vec![], Default::default())).await?;
    assert_eq!(index.document(&l.id).await?, None, "a write older than the removal does not bring it back");

    let never = listing(&user()?)?;
    write(IndexChange::Remove { id: never.id.clone(), version: 1 }).await?;
    Ok(())
}
