//! Small, strict grammars for the parts of RFC 5322 and RFC 2045/2046/2183 that the validator
//! judges. mail-parser is built to read whatever arrives, so it accepts what these checks must
//! reject; these parsers say exactly what is wrong instead.

pub mod address;
pub mod datetime;
pub mod encoded_word;
pub mod fields;
pub mod lexer;
pub mod mime;
