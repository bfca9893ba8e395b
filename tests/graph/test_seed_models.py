"""Every model of the seed documents rebuilt with plait's functional API.

The Keras functional API guide and the notes on Deep Learning with Python section 7.1.
Parameter counts equal Keras's wherever a layer's parameters mean the same in both;
torch's LSTM keeps two bias vectors where Keras keeps one (4 * hidden more per layer).
"""

import pytest
import torch
from torch import nn

from plait.blocks import (
    Add,
    Concat,
    Conv1D,
    Dense,
    Embedding,
    Flatten,
    GlobalMaxPool1D,
    LSTMEncoder,
    MaxPool1D,
    TimeDistributed,
)
from plait.graph import Graph, GraphError, Input


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def keras_lstm(inputs: int, units: int) -> int:
    """Keras's LSTM parameter count plus torch's second bias vector."""
    return 4 * (units * (inputs + units) + units) + 4 * units


def dense_network() -> Graph:
    inputs = Input("pixels", shape=(784,))
    x = Dense(64, activation="relu")(inputs)
    x = Dense(64, activation="relu")(x)
    return Graph(inputs, Dense(10)(x))


def test_dense_network():
    model = dense_network()
    assert list(model.output_specs.values())[0].shape == (10,)
    assert count(model) == 784 * 64 + 64 + 64 * 64 + 64 + 64 * 10 + 10
    assert model(torch.randn(32, 784)).shape == (32, 10)


def functional_dense_net() -> tuple[Graph, nn.Module]:
    first = Dense(32, activation="relu")
    x = Input("x", shape=(64,))
    return Graph(x, Dense(10)(Dense(32, activation="relu")(first(x)))), first


def test_sequential_and_functional_dense_nets_count_like_keras():
    model, first = functional_dense_net()
    assert count(first) == 2_080
    assert count(model) == 3_466


def reused_model() -> tuple[Graph, Graph]:
    inputs = Input("pixels", shape=(784,))
    model = Graph(inputs, Dense(10)(Dense(64, activation="relu")(inputs)))
    x = Input("new", shape=(784,))
    return Graph(x, model(x)), model


def test_a_model_called_on_a_new_input_reuses_its_weights():
    reused, model = reused_model()
    assert reused.output_specs[reused.output_names[0]].shape == (10,)
    assert count(reused) == count(model)
    batch = torch.randn(4, 784)
    torch.testing.assert_close(reused(batch), model(batch))


def frame_classifier() -> tuple[Graph, Graph]:
    inputs = Input("pixels", shape=(784,))
    model = Graph(inputs, Dense(10)(Dense(64, activation="relu")(inputs)))
    sequences = Input("sequences", shape=(20, 784))
    return Graph(sequences, TimeDistributed(model)(sequences)), model


def test_time_distributed_model_classifies_every_frame():
    video, model = frame_classifier()
    assert video.output_specs[video.output_names[0]].shape == (20, 10)
    frames = torch.randn(3, 20, 784)
    torch.testing.assert_close(video(frames)[:, 7], model(frames[:, 7]))


def headline_model() -> tuple[Graph, nn.Module, nn.Module]:
    main_input = Input("main_input", shape=(100,), dtype=torch.long)
    embedding = Embedding(10_000, 512, padding_idx=None)
    embedded = embedding(main_input)
    lstm = LSTMEncoder(32)
    lstm_out = lstm(embedded)
    auxiliary_output = Dense(1)(lstm_out)
    auxiliary_input = Input("aux_input", shape=(5,))
    x = Concat()([lstm_out, auxiliary_input])
    for _ in range(3):
        x = Dense(64, activation="relu")(x)
    main_output = Dense(1)(x)
    graph = Graph([main_input, auxiliary_input], {"main_output": main_output, "aux_output": auxiliary_output})
    return graph, lstm, embedding


def test_headline_model_has_two_inputs_and_main_and_auxiliary_outputs():
    model, lstm, embedding = headline_model()
    assert model.input_names == ["main_input", "aux_input"]
    assert model.output_names == ["main_output", "aux_output"]
    assert count(embedding) == 5_120_000
    assert count(lstm) == keras_lstm(512, 32)
    out = model(torch.randint(1, 10_000, (8, 100)), torch.randn(8, 5))
    assert out["main_output"].shape == (8, 1) and out["aux_output"].shape == (8, 1)
    by_name = model({"main_input": torch.randint(1, 10_000, (2, 100)), "aux_input": torch.randn(2, 5)})
    assert set(by_name) == {"main_output", "aux_output"}


def shared_lstm_siamese() -> tuple[Graph, nn.Module]:
    tweet_a, tweet_b = Input("tweet_a", shape=(280, 256)), Input("tweet_b", shape=(280, 256))
    shared_lstm = LSTMEncoder(64)
    merged = Concat(axis=-1)([shared_lstm(tweet_a), shared_lstm(tweet_b)])
    return Graph([tweet_a, tweet_b], Dense(1)(merged)), shared_lstm


def test_shared_lstm_siamese_counts_the_shared_weights_once():
    model, shared_lstm = shared_lstm_siamese()
    assert count(model) == keras_lstm(256, 64) + 128 + 1
    assert len(model.nodes_of(shared_lstm)) == 2
    a, b = torch.randn(2, 280, 256), torch.randn(2, 280, 256)
    assert model(a, b).shape == (2, 1)


def lstm_called_twice() -> tuple[Graph, nn.Module]:
    a, b = Input("a", shape=(280, 256)), Input("b", shape=(280, 256))
    lstm = LSTMEncoder(32)
    return Graph([a, b], [lstm(a), lstm(b)]), lstm


def conv_called_on_two_sizes() -> tuple[Graph, nn.Module]:
    conv = nn.Conv2d(3, 16, 3, padding="same")
    c, d = Input("c", shape=(3, 32, 32)), Input("d", shape=(3, 64, 64))
    return Graph([c, d], [conv(c), conv(d)]), conv


def test_a_layer_called_twice_has_two_nodes():
    model, lstm = lstm_called_twice()
    first, second = model.nodes_of(lstm)
    assert first.output_shapes == second.output_shapes == [(None, 32)]
    assert model.output_shape_of(lstm) == [(None, 32)]  # same shapes: well defined
    convs, conv = conv_called_on_two_sizes()
    assert convs.nodes_of(conv)[0].input_shapes == [(None, 3, 32, 32)]
    assert convs.nodes_of(conv)[1].output_shapes == [(None, 16, 64, 64)]
    with pytest.raises(GraphError, match="pick a node"):
        convs.output_shape_of(conv)


def inception_module(side: int = 256) -> Graph:
    image = Input("image", shape=(3, side, side))
    tower_1 = nn.ReLU()(nn.Conv2d(64, 64, 3, padding="same")(nn.ReLU()(nn.Conv2d(3, 64, 1)(image))))
    tower_2 = nn.ReLU()(nn.Conv2d(64, 64, 5, padding="same")(nn.ReLU()(nn.Conv2d(3, 64, 1)(image))))
    tower_3 = nn.ReLU()(nn.Conv2d(3, 64, 1)(nn.MaxPool2d(3, stride=1, padding=1)(image)))
    return Graph(image, Concat(axis=1)([tower_1, tower_2, tower_3]))


def test_inception_module():
    model = inception_module()
    assert model.output_specs[model.output_names[0]].shape == (192, 256, 256)
    assert count(model) == 256 + 36_928 + 256 + 102_464 + 256
    small = torch.randn(1, 3, 256, 256)[:, :, :16, :16]
    with pytest.raises(GraphError, match=r"input 'image' expects .*\(B, 3, 256, 256\)"):
        model(small)


def residual_connection(side: int = 256) -> tuple[Graph, nn.Module]:
    x = Input("x", shape=(3, side, side))
    conv = nn.Conv2d(3, 3, 3, padding="same")
    return Graph(x, Add()([x, conv(x)])), conv


def test_residual_connection():
    model, conv = residual_connection()
    assert model.output_specs[model.output_names[0]].shape == (3, 256, 256)
    batch = torch.randn(1, 3, 256, 256)
    torch.testing.assert_close(model(batch), batch + conv(batch))


def vision_model(side: int) -> Graph:
    digit = Input("digit", shape=(1, side, side))
    x = nn.Conv2d(1, 64, 3)(digit)
    x = nn.Conv2d(64, 64, 3)(x)
    x = nn.MaxPool2d(2)(x)
    return Graph(digit, Flatten()(x))


def same_digit_model(side: int = 27) -> Graph:
    vision = vision_model(side)
    digit_a, digit_b = Input("digit_a", shape=(1, side, side)), Input("digit_b", shape=(1, side, side))
    out_a, out_b = vision(digit_a), vision(digit_b)
    return Graph([digit_a, digit_b], Dense(1)(Concat()([out_a, out_b])))


def test_shared_vision_model_decides_same_digit():
    model = same_digit_model(27)
    assert model.nodes[0].output_shapes == [(None, 64 * 11 * 11)]
    assert count(model) == 640 + 36_928 + (2 * 7_744 + 1)
    x = torch.randn(2, 1, 27, 27)
    assert model(x, x.flip(0)).shape == (2, 1)


def vgg_vision(side: int) -> Graph:
    image = Input("image", shape=(3, side, side))
    x = image
    for channels, convs, inputs in ((64, 2, 3), (128, 2, 64), (256, 3, 128)):
        x = nn.ReLU()(nn.Conv2d(inputs, channels, 3, padding="same")(x))
        for _ in range(convs - 1):
            x = nn.ReLU()(nn.Conv2d(channels, channels, 3)(x))
        x = nn.MaxPool2d(2)(x)
    return Graph(image, Flatten()(x), name=f"vision_{side}")


def vqa(side: int, vocab: int, answers: int) -> tuple[Graph, Graph, Graph, nn.Module]:
    vision = vgg_vision(side)
    image_input = Input("image", shape=(3, side, side))
    encoded_image = vision(image_input)
    question_input = Input("question", shape=(100,), dtype=torch.long)
    embedding = Embedding(vocab, 256, padding_idx=None)
    embedded_question = embedding(question_input)
    encoded_question = LSTMEncoder(256)(embedded_question)
    merged = Concat()([encoded_question, encoded_image])
    model = Graph([image_input, question_input], Dense(answers)(merged))
    question_encoder = Graph(question_input, encoded_question)
    return model, vision, question_encoder, embedding


def video_qa(vision: Graph, question_encoder: Graph, frames: int, side: int, answers: int) -> Graph:
    video_input = Input("video", shape=(frames, 3, side, side))
    encoded_frames = TimeDistributed(vision)(video_input)
    encoded_video = LSTMEncoder(256)(encoded_frames)
    video_question = Input("video_question", shape=(100,), dtype=torch.long)
    merged = Concat()([encoded_video, question_encoder(video_question)])
    return Graph([video_input, video_question], Dense(answers)(merged))


def test_vqa_and_video_qa_at_the_guide_sizes():
    model, vision, encoder, embedding = vqa(224, 10_000, 1000)
    assert vision.output_specs[vision.output_names[0]].shape == (256 * 25 * 25,)
    assert count(embedding) == 2_560_000
    assert count(model) == count(vision) + 2_560_000 + keras_lstm(256, 256) + (256 + 160_000) * 1000 + 1000
    video = video_qa(vision, encoder, 100, 224, 1000)
    assert video.input_specs["video"].shape == (100, 3, 224, 224)
    shared = {id(p) for p in vision.parameters()} | {id(p) for p in encoder.parameters()}
    assert shared <= {id(p) for p in video.parameters()}


def test_video_qa_reuses_the_trained_vision_model_and_question_encoder():
    model, vision, encoder, _ = vqa(32, 50, 7)
    video = video_qa(vision, encoder, 3, 32, 7)
    clip, question = torch.randn(2, 3, 3, 32, 32), torch.randint(1, 50, (2, 100))
    assert video(clip, question).shape == (2, 7)
    in_video = [m for m in video.blocks.values() if isinstance(m, TimeDistributed)][0]
    torch.testing.assert_close(in_video(clip)[:, 2], vision(clip[:, 2]))
    # the encoder's weights are the VQA model's: training one trains the other
    lstm = next(m for m in model.blocks.values() if isinstance(m, LSTMEncoder))
    assert any(m is lstm for m in encoder.blocks.values())


def text_qa() -> tuple[Graph, nn.Module, nn.Module]:
    text_input = Input("text", shape=(None,), dtype="int32")
    text_embedding, question_embedding = Embedding(10_000, 64), Embedding(10_000, 32)
    encoded_text = LSTMEncoder(32)(text_embedding(text_input))
    question_input = Input("question", shape=(None,), dtype="int32")
    encoded_question = LSTMEncoder(16)(question_embedding(question_input))
    answer = Dense(500)(Concat(axis=-1)([encoded_text, encoded_question]))
    return Graph([text_input, question_input], answer), text_embedding, question_embedding


def test_text_question_answering_model_from_the_book():
    model, text_embedding, question_embedding = text_qa()
    assert count(text_embedding) == 640_000
    assert count(question_embedding) == 320_000
    text, question = torch.randint(1, 10_000, (4, 100)), torch.randint(1, 10_000, (4, 100))
    assert model([text, question]).shape == (4, 500)
    assert model({"text": text, "question": question}).shape == (4, 500)


def posts_model() -> tuple[Graph, nn.Module, nn.Module]:
    posts = Input("posts", shape=(None,), dtype="int32")
    embedding = Embedding(50_000, 256)
    embedded = embedding(posts)
    first = Conv1D(128, 5, activation="relu")
    x = MaxPool1D(5)(first(embedded))
    x = Conv1D(256, 5, activation="relu")(x)
    x = MaxPool1D(5)(Conv1D(256, 5, activation="relu")(x))
    x = Conv1D(256, 5, activation="relu")(x)
    x = GlobalMaxPool1D()(Conv1D(256, 5, activation="relu")(x))
    x = Dense(128, activation="relu")(x)
    model = Graph(posts, {"age": Dense(1)(x), "income": Dense(10)(x), "gender": Dense(1)(x)})
    return model, embedding, first


def test_posts_model_with_three_outputs_from_the_book():
    model, embedding, first = posts_model()
    assert count(embedding) == 12_800_000
    assert count(first) == 163_968
    out = model(torch.randint(1, 50_000, (2, 300)))
    assert {k: tuple(v.shape) for k, v in out.items()} == {"age": (2, 1), "income": (2, 10), "gender": (2, 1)}


def _video_qa_small() -> Graph:
    _, vision, encoder, _ = vqa(32, 50, 7)
    return video_qa(vision, encoder, 3, 32, 7)


# Every seed model, at sizes a CPU test can run: tests/spec rebuilds each from its spec.
SEED_MODELS = {
    "dense_network": dense_network,
    "functional_dense_net": lambda: functional_dense_net()[0],
    "reused_model": lambda: reused_model()[0],
    "frame_classifier": lambda: frame_classifier()[0],
    "headline": lambda: headline_model()[0],
    "shared_lstm_siamese": lambda: shared_lstm_siamese()[0],
    "lstm_called_twice": lambda: lstm_called_twice()[0],
    "conv_called_on_two_sizes": lambda: conv_called_on_two_sizes()[0],
    "inception_module": lambda: inception_module(16),
    "residual_connection": lambda: residual_connection(16)[0],
    "same_digit_model": same_digit_model,
    "vqa": lambda: vqa(32, 50, 7)[0],
    "video_qa": _video_qa_small,
    "text_qa": lambda: text_qa()[0],
    "posts": lambda: posts_model()[0],
}

