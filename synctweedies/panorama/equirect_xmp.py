"""Saving equirectangular images with the GPano XMP metadata that 360° viewers read."""
from __future__ import annotations

from pathlib import Path

from PIL import Image


def gpano_xmp(width: int, height: int) -> bytes:
    """An XMP packet declaring a full 360°×180° equirectangular panorama of ``width`` × ``height``."""
    fields = {
        "ProjectionType": "equirectangular", "UsePanoramaViewer": "True",
        "FullPanoWidthPixels": width, "FullPanoHeightPixels": height,
        "CroppedAreaImageWidthPixels": width, "CroppedAreaImageHeightPixels": height,
        "CroppedAreaLeftPixels": 0, "CroppedAreaTopPixels": 0,
    }
    attributes = "\n".join(f'   GPano:{key}="{value}"' for key, value in fields.items())
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '  <rdf:Description rdf:about="" xmlns:GPano="http://ns.google.com/photos/1.0/panorama/"\n'
        f"{attributes}/>\n"
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    ).encode("utf-8")


def save_equirectangular(image: Image.Image, path: Path, quality: int = 95) -> None:
    """Save ``image`` as JPEG or PNG (by ``path``'s suffix) with GPano XMP; refuses to overwrite."""
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path} exists; pick another name.")
    xmp = gpano_xmp(*image.size)
    if path.suffix.lower() in (".jpg", ".jpeg"):
        image.convert("RGB").save(path, "JPEG", quality=quality, xmp=xmp)
    elif path.suffix.lower() == ".png":
        from PIL import PngImagePlugin

        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", xmp.decode("utf-8"))
        image.save(path, "PNG", pnginfo=info)
    else:
        raise ValueError(f"{path.name}: save panoramas as .jpg or .png.")
