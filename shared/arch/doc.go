// Package arch describes the FlexiBERT 2.0 transformer design space: the
// architecture type in the published JSON format, design spaces, validation,
// the canonical form and architecture id, the 37-number embedding used by the
// published EdgeTran data, cost features (parameters, multiply-accumulates,
// memory), presets, samplers and mutation operators.
//
// # Architecture JSON
//
// An architecture is written as
//
//	{"l": L, "h": [h_1, ..., h_L], "f": [[f_1,1, ...], ...], "o": [[head, ...], ...]}
//
// where l is the number of encoder layers, h_i the hidden size of layer i,
// f_i the widths of the feed-forward stack of layer i and o_i the attention
// heads of layer i. A head is written "type_size", for example "sa_sdp_64" or
// "c_13_32", where type is one of the head types below and size is the head
// width floor(h_i / n_i) for the n_i heads of the layer.
//
// # Canonical form and id
//
// The heads of a layer form a multiset: their order carries no meaning. The
// canonical form lists each layer's heads sorted by the head-type order of
// the space (sa_sdp, sa_wma, l_dft, l_dct, c_5, c_9, c_13 by default). The id
// of an architecture is the first 32 hexadecimal digits of the SHA-256 digest
// of the canonical form serialised as compact JSON with keys in the order
// l, h, f, o and no spaces, for example
//
//	{"l":2,"h":[128,128],"f":[[512],[512]],"o":[["sa_sdp_64","sa_sdp_64"],["sa_sdp_64","sa_sdp_64"]]}
//
// Architectures that differ only in head order therefore share one id.
//
// # Embedding
//
// The embedding has 1 + 3·maxLayers entries (37 for the default space).
// Entry 0 is the index of l in the space's layer list. For layer i (0-based),
// entry 3i+1 is the index of h_i in the hidden list, entry 3i+2 the index of
// f_i in the list of all feed-forward stacks and entry 3i+3 the index of the
// head multiset in the list of all head multisets. Entries of absent layers
// are 0. The stack list holds all 1-tuples, then all 2-tuples, and so on up
// to the maximum stack depth, of the feed-forward widths, each group in
// lexicographic product order (258 stacks by default). The multiset list
// holds, for each head count of the space in turn, all multisets of that size
// over the head types in lexicographic combinations-with-replacement order
// (21,805 multisets by default).
package arch
