//! Building small ONNX models in code: the hand-made models of the importer
//! tests, the fuzzer's seeds and examples of files to try `convert` on.
//! Every model uses opset 13, float tensors, and a graph input whose first
//! dimension is a symbolic batch `N`.

use onnx_protobuf::{
    attribute_proto::AttributeType, tensor_shape_proto, type_proto, AttributeProto, GraphProto, Message, ModelProto,
    NodeProto, OperatorSetIdProto, TensorProto, TensorShapeProto, TypeProto, ValueInfoProto,
};

/// A float tensor's name and shape; the first dimension is the batch `N`.
pub fn value_info(name: &str, dims: &[i64]) -> ValueInfoProto {
    let mut shape = TensorShapeProto::new();
    for (k, &d) in dims.iter().enumerate() {
        let mut dim = tensor_shape_proto::Dimension::new();
        if k == 0 {
            dim.set_dim_param("N".into());
        } else {
            dim.set_dim_value(d);
        }
        shape.dim.push(dim);
    }
    let mut t = type_proto::Tensor::new();
    t.elem_type = 1;
    t.shape = Some(shape).into();
    let mut tp = TypeProto::new();
    tp.value = Some(type_proto::Value::TensorType(t));
    let mut v = ValueInfoProto::new();
    v.name = name.into();
    v.type_ = Some(tp).into();
    v
}

/// A float tensor stored as raw little-endian bytes.
pub fn tensor(name: &str, dims: &[i64], data: &[f32]) -> TensorProto {
    let mut t = TensorProto::new();
    t.name = name.into();
    t.dims = dims.to_vec();
    t.data_type = 1; // FLOAT
    t.raw_data = data.iter().flat_map(|v| v.to_le_bytes()).collect();
    t
}

/// An integer attribute.
pub fn int_attr(name: &str, v: i64) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.into();
    a.i = v;
    a.type_ = AttributeType::INT.into();
    a
}

/// An integer-list attribute.
pub fn ints_attr(name: &str, v: &[i64]) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.into();
    a.ints = v.to_vec();
    a.type_ = AttributeType::INTS.into();
    a
}

/// A node with one output.
pub fn node(op: &str, name: &str, inputs: &[&str], output: &str, attrs: Vec<AttributeProto>) -> NodeProto {
    let mut n = NodeProto::new();
    n.op_type = op.into();
    n.name = name.into();
    n.input = inputs.iter().map(|s| s.to_string()).collect();
    n.output = vec![output.into()];
    n.attribute = attrs;
    n
}

/// A `Constant` node producing `value` as `output`.
pub fn const_node(output: &str, value: TensorProto) -> NodeProto {
    let mut a = AttributeProto::new();
    a.name = "value".into();
    a.t = Some(value).into();
    a.type_ = AttributeType::TENSOR.into();
    node("Constant", &format!("const_{output}"), &[], output, vec![a])
}

/// The serialized model of a graph: input `input` (name, shape with the
/// batch first), `nodes` in order, weights `inits`, graph output `output`.
pub fn model(input: (&str, &[i64]), nodes: Vec<NodeProto>, inits: Vec<TensorProto>, output: &str) -> Vec<u8> {
    let mut g = GraphProto::new();
    g.name = "spikeforge".into();
    g.node = nodes;
    g.initializer = inits;
    g.input.push(value_info(input.0, input.1));
    g.output.push(value_info(output, &[1]));
    let mut m = ModelProto::new();
    m.ir_version = 8;
    let mut op = OperatorSetIdProto::new();
    op.version = 13;
    m.opset_import.push(op);
    m.graph = Some(g).into();
    m.write_to_bytes().expect("a model serializes")
}
