/** application/x-www-form-urlencoded encoding of one value (space as `+`), per RFC 6749 Appendix B. */
export function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}
