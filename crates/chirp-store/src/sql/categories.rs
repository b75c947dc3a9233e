//! Categories tweets can be posted in.

use async_trait::async_trait;
use chirp_core::model::Category;
use chirp_core::page::{Page, Paged};
use chirp_core::text::CategorySlug;

use super::SqlStore;
use super::db;
use super::rows::{self, category_columns, now_micros};
use crate::{CategoryStore, Missing, NewCategory, StoreError, StoreResult};

#[async_trait]
impl CategoryStore for SqlStore {
    async fn create_category(&self, new: NewCategory) -> StoreResult<Category> {
        let q = sqlx::query(concat!(
            "INSERT INTO categories (slug, name, description, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING ",
            category_columns!()
        ))
        .bind(new.slug.as_str().to_owned())
        .bind(new.name.into_inner())
        .bind(new.description)
        .bind(new.created_by)
        .bind(now_micros());
        let row = db::write_returning(&self.stats, &self.write, q)
            .await
            .map_err(|e| StoreError::conflict_on_unique(e, "category"))?
            .ok_or(StoreError::NotFound(Missing::Category))?;
        Ok(rows::category(&row)?)
    }

    async fn category(&self, slug: &CategorySlug) -> StoreResult<Option<Category>> {
        let q = sqlx::query(concat!(
            "SELECT ",
            category_columns!(),
            " FROM categories WHERE slug = $1"
        ))
        .bind(slug.as_str().to_owned());
        let row = db::read_optional(&self.stats, &self.read, q).await?;
        Ok(row.as_ref().map(rows::category).transpose()?)
    }

    async fn list_categories(&self, page: Page) -> StoreResult<Paged<Category>> {
        let q = sqlx::query(concat!(
            "SELECT ",
            category_columns!(),
            " FROM categories WHERE id < $1 ORDER BY id DESC LIMIT $2"
        ))
        .bind(page.before_key())
        .bind(page.fetch_limit());
        let rows = db::read_all(&self.stats, &self.read, q).await?;
        let items = rows
            .iter()
            .map(rows::category)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(page.finish(items, |c| c.id))
    }
}
