/** TensorFlow's tensor_shape.proto, shared by the SavedModel and TensorBoard event schemas. */
export const TF_TENSOR_SHAPE_PROTO = `
message TensorShapeProto {
  message Dim {
    int64 size = 1;
    string name = 2;
  }
  repeated Dim dim = 2;
  bool unknown_rank = 3;
}
`;
