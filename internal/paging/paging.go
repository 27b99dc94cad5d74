// Package paging describes one page of a long list.
package paging

// Size is the number of rows on every list page.
const Size = 25

// Page is one page of a list and what is needed to draw its navigation.
type Page[T any] struct {
	Items  []T
	Number int   // 1-based
	Total  int64 // rows in the whole list
}

// Offset returns the number of rows before page n (n < 1 counts as 1).
func Offset(n int) int {
	return (max(n, 1) - 1) * Size
}

// Pages returns the number of pages, at least 1.
func (p Page[T]) Pages() int { return Count(p.Total, Size) }

// Count is the number of pages of size rows that total rows fill, at
// least 1.
func Count(total int64, size int) int {
	return max(1, int((total+int64(size)-1)/int64(size)))
}
