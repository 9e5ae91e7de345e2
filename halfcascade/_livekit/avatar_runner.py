"""livekit's ``AvatarRunner``, publishing the video at the avatar's own frame rate.

livekit publishes the avatar's camera track with the SDK's default encoding, which for a
small frame (256x256, 512x512) is a simulcast ladder capped at 15 fps: the user received
15-18 fps of a 25 fps avatar. This runner publishes one layer at ``video_fps`` with a
bitrate for the frame size. It overrides livekit's private ``_publish_track`` (1.8.9); the
body mirrors livekit's except for the video publish options.
"""

from __future__ import annotations

from livekit import rtc
from livekit.agents.voice.avatar import AvatarRunner

__all__ = ["FullRateAvatarRunner", "video_publish_options"]


def video_publish_options(width: int, height: int, fps: float) -> rtc.TrackPublishOptions:
    """Camera publish options: one layer at ``fps``, ~0.1 bit per pixel per frame."""
    bitrate = int(min(2_500_000, max(300_000, width * height * fps * 0.1)))
    return rtc.TrackPublishOptions(
        source=rtc.TrackSource.SOURCE_CAMERA,
        simulcast=False,
        video_encoding=rtc.VideoEncoding(max_framerate=fps, max_bitrate=bitrate),
    )


class FullRateAvatarRunner(AvatarRunner):
    """An ``AvatarRunner`` whose video track carries every frame it is given."""

    async def _publish_track(self) -> None:
        async with self._lock:
            await self._room_connected_fut
            audio_track = rtc.LocalAudioTrack.create_audio_track("avatar_audio", self._audio_source)
            audio_options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
            self._audio_publication = await self._room.local_participant.publish_track(
                audio_track, audio_options
            )
            await self._audio_publication.wait_for_subscription()
            opts = self._options
            video_track = rtc.LocalVideoTrack.create_video_track("avatar_video", self._video_source)
            self._video_publication = await self._room.local_participant.publish_track(
                video_track,
                video_publish_options(opts.video_width, opts.video_height, opts.video_fps),
            )
