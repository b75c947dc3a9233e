//! Categories tweets can be posted in.

use chirp_core::model::Category;
use chirp_core::page::{Page, Paged};
use chirp_core::text::{CategoryName, CategorySlug};

use chirp_store::Missing;

use crate::{App, AppError, AppResult};

/// A category to create, its fields already checked.
#[derive(Debug)]
pub struct NewCategory {
    pub slug: CategorySlug,
    pub name: CategoryName,
    pub description: String,
}

impl App {
    /// Creates a category; a taken slug is a conflict.
    pub async fn create_category(&self, me: i64, new: NewCategory) -> AppResult<Category> {
        Ok(self
            .store()
            .create_category(chirp_store::NewCategory {
                slug: new.slug,
                name: new.name,
                description: new.description,
                created_by: me,
            })
            .await?)
    }

    /// One category; a slug that breaks the rules cannot exist.
    pub async fn category(&self, slug: &str) -> AppResult<Category> {
        let slug = CategorySlug::parse(slug).map_err(|_| AppError::NotFound(Missing::Category))?;
        self.store()
            .category(&slug)
            .await?
            .ok_or(AppError::NotFound(Missing::Category))
    }

    /// All categories, newest first.
    pub async fn categories(&self, page: Page) -> AppResult<Paged<Category>> {
        Ok(self.store().list_categories(page).await?)
    }
}
