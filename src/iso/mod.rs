//! The ISO road: remaster a distribution's installer ISO into aerie's
//! installer (`aerie iso --base`), and make small config volumes (OEMDRV,
//! cidata) that a stock installer or cloud image picks up by itself.
//!
//! Pure parts (menu contents, rendered through the templates in `iso/`;
//! probe parsing, layout rules, payload) are separate from the side effects
//! (xorriso and mtools, both driven as programs through [`crate::exec`]).

pub mod binary;
pub mod bootmenu;
pub mod cidata;
pub mod config_iso;
pub mod efi_image;
mod error;
pub mod layout;
pub mod media_ref;
mod menu_syntax;
mod output;
pub mod payload;
pub mod probe;
pub mod remaster;
mod udev;
pub mod xorriso;

pub use error::IsoError;
