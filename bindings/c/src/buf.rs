//! Memory handed to the caller: byte buffers, lists of strings, epmd entries. Each type has
//! exactly one free function, and freeing an empty (zeroed) value is a no-op.

use std::ffi::{CString, c_char};
use std::ptr;

/// Bytes the library allocated for the caller: ETF, or text. `data[len]` is always a NUL
/// byte (not counted in `len`), so text can be used as a C string directly. A buffer emptied
/// by a failure, or zero-initialised, has `data == NULL` and `len == 0`.
///
/// Free it with bl_buf_free(), never with free().
#[repr(C)]
#[derive(Debug)]
pub struct bl_buf {
    /// `char`, as erl_interface's buffers: ETF goes to ei_decode_*() without a cast.
    pub data: *mut c_char,
    pub len: usize,
}

impl bl_buf {
    pub fn empty() -> bl_buf {
        bl_buf { data: ptr::null_mut(), len: 0 }
    }

    /// Takes `v` over, adding the NUL after it.
    pub fn from_vec(mut v: Vec<u8>) -> bl_buf {
        let len = v.len();
        v.push(0);
        let boxed: Box<[u8]> = v.into_boxed_slice();
        bl_buf { data: Box::into_raw(boxed) as *mut c_char, len }
    }

    pub fn from_string(s: String) -> bl_buf {
        bl_buf::from_vec(s.into_bytes())
    }

    /// The bytes (without the NUL).
    ///
    /// # Safety
    /// `self` was filled by the library and not freed.
    pub unsafe fn as_slice(&self) -> &[u8] {
        if self.data.is_null() {
            &[]
        } else {
            unsafe { std::slice::from_raw_parts(self.data as *const u8, self.len) }
        }
    }
}

/// Frees a buffer the library filled and sets it to empty (`data = NULL`, `len = 0`).
/// NULL, or an already empty buffer, is a no-op.
///
/// Ownership: takes back what `buf` holds. Thread safety: any thread, one call per buffer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_buf_free(buf: *mut bl_buf) {
    if buf.is_null() {
        return;
    }
    // SAFETY: per the contract, `buf` points to a bl_buf that is empty or was filled by
    // `from_vec` (a boxed slice of `len + 1` bytes) and not freed since.
    unsafe {
        let b = &mut *buf;
        if !b.data.is_null() {
            drop(Box::from_raw(ptr::slice_from_raw_parts_mut(b.data as *mut u8, b.len + 1)));
        }
        *b = bl_buf::empty();
    }
}

/// A list of NUL-terminated strings (node names).
///
/// Free it with bl_strlist_free().
#[repr(C)]
#[derive(Debug)]
pub struct bl_strlist {
    pub items: *mut *mut c_char,
    pub len: usize,
}

impl bl_strlist {
    pub fn empty() -> bl_strlist {
        bl_strlist { items: ptr::null_mut(), len: 0 }
    }

    pub fn from_strings(v: impl IntoIterator<Item = String>) -> bl_strlist {
        let items: Box<[*mut c_char]> = v.into_iter().map(|s| c_string(s).into_raw()).collect();
        let len = items.len();
        bl_strlist { items: Box::into_raw(items) as *mut *mut c_char, len }
    }
}

/// A C string from text that may (in theory) hold NULs: they are replaced, not cut at.
pub fn c_string(s: String) -> CString {
    CString::new(s).unwrap_or_else(|e| {
        let s: Vec<u8> = e.into_vec().into_iter().map(|b| if b == 0 { b'?' } else { b }).collect();
        CString::new(s).expect("NULs replaced")
    })
}

/// Frees a list the library filled and sets it to empty. NULL or an empty list is a no-op.
///
/// Ownership: takes back the list and its strings. Thread safety: any thread, one call per list.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_strlist_free(list: *mut bl_strlist) {
    if list.is_null() {
        return;
    }
    // SAFETY: per the contract the list is empty or came from `from_strings`.
    unsafe {
        let l = &mut *list;
        if !l.items.is_null() {
            let items = Box::from_raw(ptr::slice_from_raw_parts_mut(l.items, l.len));
            for s in items.iter() {
                drop(CString::from_raw(*s));
            }
        }
        *l = bl_strlist::empty();
    }
}

/// One node registered in an epmd: its alive name (the part before `@`) and port.
#[repr(C)]
#[derive(Debug)]
pub struct bl_epmd_entry {
    pub name: *mut c_char,
    pub port: u16,
}

/// What an epmd knows (`epmd -names`). Free it with bl_epmd_list_free().
#[repr(C)]
#[derive(Debug)]
pub struct bl_epmd_list {
    pub items: *mut bl_epmd_entry,
    pub len: usize,
}

impl bl_epmd_list {
    pub fn empty() -> bl_epmd_list {
        bl_epmd_list { items: ptr::null_mut(), len: 0 }
    }

    pub fn from_names(v: Vec<(String, u16)>) -> bl_epmd_list {
        let items: Box<[bl_epmd_entry]> =
            v.into_iter().map(|(n, port)| bl_epmd_entry { name: c_string(n).into_raw(), port }).collect();
        let len = items.len();
        bl_epmd_list { items: Box::into_raw(items) as *mut bl_epmd_entry, len }
    }
}

/// Frees a list the library filled and sets it to empty. NULL or an empty list is a no-op.
///
/// Ownership: takes back the list and its names. Thread safety: any thread, one call per list.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_epmd_list_free(list: *mut bl_epmd_list) {
    if list.is_null() {
        return;
    }
    // SAFETY: per the contract the list is empty or came from `from_names`.
    unsafe {
        let l = &mut *list;
        if !l.items.is_null() {
            let items = Box::from_raw(ptr::slice_from_raw_parts_mut(l.items, l.len));
            for e in items.iter() {
                drop(CString::from_raw(e.name));
            }
        }
        *l = bl_epmd_list::empty();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn buffers_end_in_nul_and_free_to_empty() {
        let mut b = bl_buf::from_string("abc".into());
        assert_eq!(b.len, 3);
        assert_eq!(unsafe { CStr::from_ptr(b.data) }.to_str().unwrap(), "abc");
        unsafe { bl_buf_free(&mut b) };
        assert!(b.data.is_null() && b.len == 0);
        unsafe { bl_buf_free(&mut b) };
        unsafe { bl_buf_free(ptr::null_mut()) };
        let mut e = bl_buf::from_vec(Vec::new());
        assert!(!e.data.is_null() && e.len == 0);
        unsafe { bl_buf_free(&mut e) };
    }

    #[test]
    fn lists_free_their_strings() {
        let mut l = bl_strlist::from_strings(["a@h".to_string(), "b\0@h".to_string()]);
        assert_eq!(l.len, 2);
        let second = unsafe { CStr::from_ptr(*l.items.add(1)) };
        assert_eq!(second.to_str().unwrap(), "b?@h");
        unsafe { bl_strlist_free(&mut l) };
        assert!(l.items.is_null());
        let mut e = bl_epmd_list::from_names(vec![("x".into(), 4000)]);
        assert_eq!(unsafe { (*e.items).port }, 4000);
        unsafe { bl_epmd_list_free(&mut e) };
        assert_eq!(e.len, 0);
    }
}
