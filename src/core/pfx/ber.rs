//! BER → DER for PKCS#12. macOS Keychain, NSS (`pk12util`) and some Java
//! versions write PFX files in BER: indefinite lengths and OCTET STRINGs cut
//! into chunks. The `der` crate reads only DER, so each structure is
//! re-encoded first: definite, minimal lengths and merged string chunks.
//! Primitive contents are copied unchanged, so DER input comes out identical
//! and a MAC over an OCTET STRING's content still verifies.

use zeroize::Zeroizing;

/// Nesting deeper than this is refused (no real PFX comes close).
const MAX_DEPTH: usize = 48;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BerError {
    /// The input ends inside a value.
    Truncated,
    /// Not BER at all, or bytes after the value.
    Invalid,
}

/// Re-encodes one BER value (the whole of `input`) as DER. The output is
/// wiped on drop: it may hold key material.
pub(crate) fn normalize(input: &[u8]) -> Result<Zeroizing<Vec<u8>>, BerError> {
    let mut out = Zeroizing::new(Vec::with_capacity(input.len()));
    let mut pos = 0;
    convert(input, &mut pos, &mut out, 0)?;
    if pos != input.len() {
        return Err(BerError::Invalid);
    }
    Ok(out)
}

fn byte(input: &[u8], pos: &mut usize) -> Result<u8, BerError> {
    let b = *input.get(*pos).ok_or(BerError::Truncated)?;
    *pos += 1;
    Ok(b)
}

fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// Universal string types that BER may send in constructed (chunked) form.
fn is_string_type(first_tag_byte: u8) -> bool {
    // Universal class, constructed, tag numbers of BIT STRING, OCTET STRING
    // and the character strings.
    first_tag_byte & 0xE0 == 0x20
        && matches!(
            first_tag_byte & 0x1F,
            0x03 | 0x04 | 0x0C | 0x12 | 0x13 | 0x14 | 0x16 | 0x1A | 0x1E
        )
}

/// The content of the chunk at `p` in the DER that [`convert`] wrote for a
/// constructed string's children. A chunk is a primitive value with a
/// one-byte tag: a constructed or high-tag-number chunk (whose tag bytes
/// would otherwise be read as its length) is not a string segment.
fn chunk<'a>(children: &'a [u8], p: &mut usize) -> Result<&'a [u8], BerError> {
    let invalid = |_| BerError::Invalid;
    let tag = byte(children, p).map_err(invalid)?;
    if tag & 0x20 != 0 || tag & 0x1F == 0x1F {
        return Err(BerError::Invalid);
    }
    let l = byte(children, p).map_err(invalid)?;
    let len = if l < 0x80 {
        l as usize
    } else {
        let mut len = 0usize;
        for _ in 0..(l & 0x7F) {
            len = len.checked_mul(256).ok_or(BerError::Invalid)?
                | byte(children, p).map_err(invalid)? as usize;
        }
        len
    };
    let end = p.checked_add(len).ok_or(BerError::Invalid)?;
    let content = children.get(*p..end).ok_or(BerError::Invalid)?;
    *p = end;
    Ok(content)
}

fn convert(input: &[u8], pos: &mut usize, out: &mut Vec<u8>, depth: usize) -> Result<(), BerError> {
    if depth > MAX_DEPTH {
        return Err(BerError::Invalid);
    }
    let tag_start = *pos;
    let first = byte(input, pos)?;
    if first & 0x1F == 0x1F {
        // High tag number: continuation bytes have the top bit set.
        loop {
            let b = byte(input, pos)?;
            if b & 0x80 == 0 {
                break;
            }
            if *pos - tag_start > 5 {
                return Err(BerError::Invalid);
            }
        }
    }
    let tag = &input[tag_start..*pos];
    let constructed = first & 0x20 != 0;

    let len_byte = byte(input, pos)?;
    let length = match len_byte {
        0x80 => None,
        b if b < 0x80 => Some(b as usize),
        b => {
            let n = (b & 0x7F) as usize;
            if n > 4 {
                return Err(BerError::Invalid);
            }
            let mut len = 0usize;
            for _ in 0..n {
                len = (len << 8) | byte(input, pos)? as usize;
            }
            Some(len)
        }
    };

    if !constructed {
        let len = length.ok_or(BerError::Invalid)?;
        let end = pos.checked_add(len).ok_or(BerError::Invalid)?;
        let content = input.get(*pos..end).ok_or(BerError::Truncated)?;
        *pos = end;
        out.extend_from_slice(tag);
        push_len(out, len);
        out.extend_from_slice(content);
        return Ok(());
    }

    let mut children = Zeroizing::new(Vec::new());
    match length {
        None => loop {
            if input.get(*pos..*pos + 2).ok_or(BerError::Truncated)? == [0, 0] {
                *pos += 2;
                break;
            }
            convert(input, pos, &mut children, depth + 1)?;
        },
        Some(len) => {
            let end = pos.checked_add(len).ok_or(BerError::Invalid)?;
            if end > input.len() {
                return Err(BerError::Truncated);
            }
            while *pos < end {
                convert(&input[..end], pos, &mut children, depth + 1)?;
            }
        }
    }

    if tag.len() == 1 && is_string_type(first) {
        // Merge the chunks (each now a DER value) into one primitive value.
        let bit_string = first & 0x1F == 0x03;
        let mut merged = Zeroizing::new(Vec::with_capacity(children.len()));
        let mut unused_bits = 0u8;
        let mut p = 0;
        while p < children.len() {
            let content = chunk(&children, &mut p)?;
            if bit_string {
                // BIT STRING chunks: only the last may have unused bits.
                let (&u, bits) = content.split_first().ok_or(BerError::Invalid)?;
                if unused_bits != 0 {
                    return Err(BerError::Invalid);
                }
                unused_bits = u;
                merged.extend_from_slice(bits);
            } else {
                merged.extend_from_slice(content);
            }
        }
        out.push(first & !0x20);
        if bit_string {
            push_len(out, merged.len() + 1);
            out.push(unused_bits);
        } else {
            push_len(out, merged.len());
        }
        out.extend_from_slice(&merged);
        return Ok(());
    }

    out.extend_from_slice(tag);
    push_len(out, children.len());
    out.extend_from_slice(&children);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_is_unchanged() {
        let der = [0x30, 0x06, 0x02, 0x01, 0x03, 0x04, 0x01, 0xAA];
        assert_eq!(&**normalize(&der).unwrap(), &der);
        let long = [&[0x04, 0x81, 0x80][..], &[7; 128]].concat();
        assert_eq!(&**normalize(&long).unwrap(), &long[..]);
    }

    #[test]
    fn indefinite_lengths_and_chunks_become_der() {
        // SEQUENCE (indefinite) { OCTET STRING (constructed) { "ab", "c" } }
        let ber = [
            0x30, 0x80, 0x24, 0x80, 0x04, 0x02, b'a', b'b', 0x04, 0x01, b'c', 0x00, 0x00, 0x00,
            0x00,
        ];
        assert_eq!(
            &**normalize(&ber).unwrap(),
            &[0x30, 0x05, 0x04, 0x03, b'a', b'b', b'c']
        );
        // A non-minimal long-form length.
        let ber = [0x04, 0x82, 0x00, 0x01, 0x55];
        assert_eq!(&**normalize(&ber).unwrap(), &[0x04, 0x01, 0x55]);
        // [0] constructed stays a constructed [0] (it may be EXPLICIT).
        let ber = [0xA0, 0x80, 0x04, 0x01, 0x01, 0x00, 0x00];
        assert_eq!(&**normalize(&ber).unwrap(), &[0xA0, 0x03, 0x04, 0x01, 0x01]);
    }

    /// Issue 11: a high-tag-number chunk inside a constructed string had
    /// its second tag byte read as its length, and the merge indexed past
    /// the buffer (a panic).
    #[test]
    fn chunks_with_a_high_tag_number_are_refused() {
        for ber in [
            &[0x30, 0x08, 0x24, 0x80, 0x1F, 0x7F, 0x01, 0xAA, 0x00, 0x00][..],
            &[0x24, 0x80, 0x1F, 0x84, 0x01, 0x00, 0x00, 0x00],
            &[0x23, 0x80, 0x1F, 0x84, 0x01, 0x00, 0x00, 0x00],
            &[0x24, 0x05, 0x1F, 0x81, 0x7F, 0x01, 0xAA],
        ] {
            assert_eq!(normalize(ber).unwrap_err(), BerError::Invalid, "{ber:02X?}");
        }
        // Chunks of chunks, and a chunk with a long-form length, still merge.
        let ber = [
            0x24, 0x80, 0x24, 0x80, 0x04, 0x01, b'a', 0x00, 0x00, 0x04, 0x01, b'b', 0x00, 0x00,
        ];
        assert_eq!(&**normalize(&ber).unwrap(), &[0x04, 0x02, b'a', b'b']);
        let ber = [
            &[0x24, 0x80, 0x04, 0x81, 0xC8][..],
            &[7; 200],
            &[0x00, 0x00],
        ]
        .concat();
        assert_eq!(
            &**normalize(&ber).unwrap(),
            &[&[0x04, 0x81, 0xC8][..], &[7; 200]].concat()[..]
        );
    }

    #[test]
    fn truncation_and_garbage_are_reported() {
        assert_eq!(
            normalize(&[0x30, 0x80, 0x04, 0x01]).unwrap_err(),
            BerError::Truncated
        );
        assert_eq!(
            normalize(&[0x30, 0x05, 0x04]).unwrap_err(),
            BerError::Truncated
        );
        assert_eq!(
            normalize(&[0x04, 0x00, 0xFF]).unwrap_err(),
            BerError::Invalid
        );
        assert_eq!(normalize(&[0x04, 0x80]).unwrap_err(), BerError::Invalid);
        // Absurd nesting is refused rather than recursing forever.
        let deep: Vec<u8> = std::iter::repeat_n([0x30, 0x80], 100).flatten().collect();
        assert_eq!(normalize(&deep).unwrap_err(), BerError::Invalid);
    }
}
