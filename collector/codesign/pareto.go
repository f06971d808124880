package codesign

import "sort"

// ParetoIndices returns the indices of the non-dominated rows of points,
// every column minimised, in ascending order. Row a dominates row b when a
// is no worse in every column and strictly better in one. Duplicate rows do
// not dominate each other, so all copies of a non-dominated row are kept.
// Rows must have equal length. It takes O(n²·d) time, ample for the few
// thousand evaluations of a search.
func ParetoIndices(points [][]float64) []int {
	var out []int
	for i, p := range points {
		dominated := false
		for j, q := range points {
			if i != j && dominates(q, p) {
				dominated = true
				break
			}
		}
		if !dominated {
			out = append(out, i)
		}
	}
	sort.Ints(out)
	return out
}

func dominates(a, b []float64) bool {
	better := false
	for k := range a {
		if a[k] > b[k] {
			return false
		}
		if a[k] < b[k] {
			better = true
		}
	}
	return better
}
