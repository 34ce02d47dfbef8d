//! Agent images left by older inputs: every change of the Dockerfile, the
//! base image or Claude Code builds a new tag (hundreds of MB), and nothing
//! uses the old ones again. `gc` offers to remove them.

use std::collections::HashMap;

use bollard::query_parameters::{ListImagesOptions, RemoveImageOptions};

use super::{AGENT_IMAGE_REPOSITORY, ImageError};
use crate::docker::engine::Engine;

/// One agent image tag other than the current one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleImage {
    /// `claude-bottle/agent:<hash>`.
    pub tag: String,
    /// The image it names: several tags can name one image.
    pub image_id: String,
    /// The image's size; images that share layers count each in full.
    pub size_bytes: u64,
}

/// The most removing `images` can free: each image counted once, however
/// many of the tags name it (layers shared with kept images free nothing).
pub fn reclaimable_bytes(images: &[StaleImage]) -> u64 {
    let mut seen = std::collections::BTreeSet::new();
    images
        .iter()
        .filter(|image| seen.insert(image.image_id.as_str()))
        .map(|image| image.size_bytes)
        .sum()
}

/// What removing a stale image did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Removal {
    Removed,
    /// A container (a running bottle, or one another tool made) uses it.
    InUse,
}

/// Every `claude-bottle/agent` tag but `current`, sorted.
pub async fn stale_agent_images(
    engine: &Engine,
    current: &str,
) -> Result<Vec<StaleImage>, ImageError> {
    let filters = HashMap::from([(
        "reference".to_owned(),
        vec![AGENT_IMAGE_REPOSITORY.to_owned()],
    )]);
    let images = engine
        .docker
        .list_images(Some(ListImagesOptions {
            filters: Some(filters),
            ..Default::default()
        }))
        .await?;
    let prefix = format!("{AGENT_IMAGE_REPOSITORY}:");
    let mut stale: Vec<StaleImage> = images
        .iter()
        .flat_map(|image| {
            let size_bytes = u64::try_from(image.size).unwrap_or(0);
            image
                .repo_tags
                .iter()
                .filter(|tag| tag.starts_with(&prefix) && tag.as_str() != current)
                .map(move |tag| StaleImage {
                    tag: tag.clone(),
                    image_id: image.id.clone(),
                    size_bytes,
                })
        })
        .collect();
    stale.sort_by(|a, b| a.tag.cmp(&b.tag));
    Ok(stale)
}

/// Removes one tag (the image goes with its last tag). An image a container
/// still uses is left alone: never forced.
pub async fn remove_stale_image(engine: &Engine, tag: &str) -> Result<Removal, ImageError> {
    let options = RemoveImageOptions {
        force: false,
        noprune: false,
        ..Default::default()
    };
    match engine.docker.remove_image(tag, Some(options), None).await {
        Ok(_)
        | Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(Removal::Removed),
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 409, ..
        }) => Ok(Removal::InUse),
        Err(error) => Err(error.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_named_by_several_tags_counts_once() {
        let image = |tag: &str, id: &str, size_bytes| StaleImage {
            tag: tag.into(),
            image_id: id.into(),
            size_bytes,
        };
        let images = [
            image("a", "sha:1", 600),
            image("b", "sha:1", 600),
            image("c", "sha:2", 50),
        ];
        assert_eq!(reclaimable_bytes(&images), 650);
        assert_eq!(reclaimable_bytes(&[]), 0);
    }
}
