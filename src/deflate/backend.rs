//! The DEFLATE backends behind a small trait. SKELETON: written by the backend work.
