"""Media decoding (PyAV): audio as 16 kHz mono float32, video as RGB frames on a grid."""

from emorec.io.media import MediaInfo, iter_video_frames, load_audio, probe

__all__ = ["MediaInfo", "iter_video_frames", "load_audio", "probe"]
