# ruff: noqa: E501 - the articles are prose: one paragraph or list item per line, as staff type them.
"""The help centre's demo articles: one published every-market article for each topic in
``refill.help.topics``, in English and Simplified Chinese, naming the portal's real pages and
buttons. The figures are the default market settings (domain.md); a market that changes them
should publish its own article for the topic."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from . import services, topics
from .models import Article


@dataclass(frozen=True)
class DemoArticle:
    topic: str
    category: str
    slug: str
    title_en: str
    title_zh_hans: str
    body_en: str
    body_zh_hans: str


C = Article.Category

ARTICLES: tuple[DemoArticle, ...] = (
    DemoArticle(
        topics.RENEW,
        C.RENEWING,
        "how-to-renew",
        "How to renew your plan",
        "如何续费套餐",
        """Renewing keeps your number and gives you a new period of your plan with fresh allowances.

## Renew on the web
1. Log in and open [My lines](/lines/).
2. Under the number, press **Renew**.
3. Choose a plan and **How many periods** you want to pay for. If you have a promotion code, type it and press **Apply**.
4. Check the price, the start date and the new expiry date shown on the page.
5. Under **How to pay**, choose your wallet, **Wallet first, the rest by card**, a saved card or a new card, then press **Pay**.

You get a receipt by email, and the order is listed under [Orders](/orders/).

## When the new period starts
- **Renewing early** never loses days: the new period starts when the current one ends. You can pay up to 12 periods ahead (some plans allow fewer).
- **If your plan has already ended** (grace period or suspended), the new period starts now. You are not charged for the days the line was off.

## Changing plan
Choosing another plan on the renew page changes it from the next period, so you keep what you paid for until then.

## Other ways to renew
- Top up your [wallet](/wallet/) with a refill PIN or by card, then pay from the wallet.
- Turn on auto-renew so the line renews by itself before it ends.
- A shop that sells our refills can renew the line for you, in cash.

If a payment is refused, nothing is charged and your line does not change: see "Why was my payment refused?".""",
        """续费可以保留您的号码，并获得一个新的套餐周期和全新的套餐用量。

## 在网页上续费
1. 登录后打开[我的号码](/lines/)。
2. 在号码下方点击 **续费**。
3. 选择套餐和 **续费期数**。如果您有优惠码，请输入后点击 **使用**。
4. 核对页面上显示的价格、开始日期和新的到期日期。
5. 在 **支付方式** 中选择钱包、**先用钱包，余额不足部分用银行卡**、已保存的银行卡或新银行卡，然后点击 **支付**。

续费成功后，收据会发送到您的邮箱，订单也会显示在[订单](/orders/)中。

## 新周期从什么时候开始
- **提前续费不会浪费天数**：新周期从当前周期结束时开始。最多可以提前支付 12 个周期（部分套餐更少）。
- **如果套餐已经到期**（处于宽限期或已停机），新周期从现在开始，到期后中断服务的天数不收费。

## 更换套餐
在续费页面选择其他套餐，会从下一个周期开始生效，您已付费的当前周期不受影响。

## 其他续费方式
- 使用充值卡或银行卡为[钱包](/wallet/)充值，再用钱包余额支付。
- 开启自动续费，号码会在到期前自动续费。
- 也可以到销售我们充值卡的门店，用现金为您续费。

如果付款被拒绝，不会扣款，您的号码也不会有任何变化，请参阅"为什么我的付款被拒绝？"。""",
    ),
    DemoArticle(
        topics.AUTO_RENEW,
        C.RENEWING,
        "auto-renew-and-spending-cap",
        "How auto-renew and its spending cap work",
        "自动续费及其消费上限",
        """With auto-renew on, your line renews by itself before the plan ends, so you never lose service or your number.

## Turn it on
1. Open [My lines](/lines/) and press **Turn on auto-renew** under the number (it reads **Auto-renew is on** once it is).
2. Tick **Renew this line automatically before it ends**.
3. Choose how to pay: **Pay from my wallet first**, **Then charge my default card**, **If that fails, charge my backup card**. You can save cards under [Saved payment methods](/payment-methods/).
4. Press **Save**.

## When we charge
We renew about a day before the period ends (the exact time is shown as **Next automatic renewal**). We try your wallet first, then your default card, then your backup card.

## The spending cap
You can set two limits, or leave them empty for no limit:
- **Most to spend on one renewal**: a renewal that costs more is not attempted.
- **Most to spend on auto-renewals in a calendar month**: auto-renew never charges more than this in one month.

If a renewal would go over a cap, we do not charge anything and we tell you why. Raise the cap, or renew yourself from the **Renew** button.

## If a payment fails
We try again a few times: about 6 hours later, a day later, when the plan ends, and one and three days after it ends, and stop when the grace period ends. Each time we tell you the reason in plain words and how to fix it. Every attempt is separate, so you are never charged twice for one period.

Some banks ask you to confirm each payment yourself. Auto-renew cannot do that: renew once yourself, or use another card.""",
        """开启自动续费后，号码会在套餐到期前自动续费，服务不会中断，号码也不会丢失。

## 如何开启
1. 打开[我的号码](/lines/)，在号码下方点击 **开启自动续费**（开启后显示为 **自动续费已开启**）。
2. 勾选 **在到期前自动续费此号码**。
3. 选择支付顺序：**优先使用钱包余额支付**、**然后从默认银行卡扣款**、**如果失败，从备用银行卡扣款**。银行卡可以在[已保存的支付方式](/payment-methods/)中添加。
4. 点击 **保存**。

## 什么时候扣款
我们会在周期结束前大约一天自动续费（页面上会显示下一次自动续费的时间）。扣款顺序为：先用钱包余额，再扣默认银行卡，最后扣备用银行卡。

## 消费上限
您可以设置两个上限，留空表示不限制：
- **单次续费最高金额**：续费价格超过此金额时，不会尝试扣款。
- **每个自然月自动续费最高金额**：一个自然月内自动续费的扣款总额不会超过此金额。

如果某次续费会超出上限，我们不会扣款，并会告诉您原因。您可以提高上限，或点击 **续费** 按钮自行续费。

## 如果扣款失败
我们会再尝试几次：约 6 小时后、1 天后、套餐到期时，以及到期后第 1 天和第 3 天；宽限期结束后停止尝试。每次失败我们都会用简单的话告诉您原因和解决办法。每次尝试都是独立的，同一个周期绝不会重复扣款。

有些银行要求您亲自确认每一笔付款，自动续费无法完成这一步：请自行续费一次，或改用其他银行卡。""",
    ),
    DemoArticle(
        topics.PAYMENT_DECLINED,
        C.PAYING,
        "payment-declined",
        "Why was my payment refused, and what can I do?",
        "为什么我的付款被拒绝？该怎么办？",
        """When a payment is refused, **nothing is charged and your line does not change**. The page tells you the reason your bank or card provider gave. Here is what each one means.

## Common reasons
- **Not enough money in the account**: top up the account, or use another card.
- **Over the spending limit**: use another card, or ask your bank to raise the limit.
- **Card frozen by your bank**: contact your bank, or use another card.
- **Card expired**: check the expiry date, or use another card. Update your [saved cards](/payment-methods/) so auto-renew keeps working.
- **Wrong security code (CVC)**: check the 3 or 4 digits on the back of the card and try again.
- **Card number not valid**: check the number and try again.
- **Your bank did not confirm the payment**: some banks ask you to approve the payment in their app or by a code. Try again and complete that step, or use another card.
- **Declined without a reason**: only your bank knows why. Call them, or use another card.
- **We could not reach your bank**: wait a minute and try again.

## Other ways to pay
- Pay from your [wallet](/wallet/): top it up by card or with a refill PIN first.
- Choose **Wallet first, the rest by card** on the renew page.
- Pay in cash at a shop that sells our refills.

## Several refusals in a row
After several refused cards within an hour, we pause card payments for a while to protect you from fraud. Wait an hour, or pay from your wallet.

## Auto-renew
If an automatic renewal is refused, we email you the reason and try again over the next days. Fix the cause (for example, save a new card) or renew yourself before the grace period ends.""",
        """付款被拒绝时，**不会扣款，您的号码也不会有任何变化**。页面会显示银行或发卡机构给出的原因，各原因的含义如下。

## 常见原因
- **银行卡余额不足**：请确认卡内余额足够，或改用其他银行卡。
- **超出消费额度**：请改用其他银行卡，或联系银行提高额度。
- **银行卡被银行冻结**：请联系银行，或改用其他银行卡。
- **银行卡已过期**：请检查有效期，或改用其他银行卡。请同时更新[已保存的银行卡](/payment-methods/)，以免影响自动续费。
- **安全码（CVC）错误**：请核对卡背面的 3 位或 4 位数字后重试。
- **卡号无效**：请检查卡号后重试。
- **银行未确认付款**：有些银行要求您在银行 App 中或通过验证码确认付款。请重试并完成确认，或改用其他银行卡。
- **银行拒绝且未说明原因**：只有银行知道具体原因，请致电银行，或改用其他银行卡。
- **无法连接到您的银行**：请稍等一分钟后重试。

## 其他支付方式
- 使用[钱包](/wallet/)余额支付：可以先用银行卡或充值卡为钱包充值。
- 在续费页面选择 **先用钱包，余额不足部分用银行卡**。
- 到销售我们充值卡的门店用现金支付。

## 连续多次被拒绝
如果一小时内多张银行卡被拒绝，为防止盗刷，我们会暂停一段时间的银行卡支付。请一小时后再试，或使用钱包余额支付。

## 自动续费
如果自动续费被拒绝，我们会通过邮件告诉您原因，并在接下来几天内再次尝试。请在宽限期结束前解决问题（例如保存一张新银行卡）或自行续费。""",
    ),
    DemoArticle(
        topics.ESIM_INSTALL,
        C.ESIM,
        "install-esim",
        "How to install or re-install your eSIM (iPhone and Android)",
        "如何安装或重新安装 eSIM（iPhone 和安卓）",
        """Your eSIM is installed from the **eSIM and new phone** page of your line. Connect the phone to Wi-Fi before you start.

## Find your activation code
1. Open [My lines](/lines/) and press **eSIM and new phone** under the number.
2. Under **Scan to install** you see a QR code and the **Activation code** (press **Copy** to copy it).

Keep the code private: anyone who has it can install your number on their phone until you do.

## iPhone
1. On iOS 17.4 or later, open the eSIM page on the iPhone itself and press **Install on this iPhone**.
2. Otherwise go to Settings → Mobile Service (or Cellular) → Add eSIM → Use QR Code, and scan the QR code shown on another screen. You can also tap "Enter Details Manually" and paste the activation code.
3. Give the line a label, choose it for mobile data if you wish, and wait until it shows your operator.

## Android
1. Go to Settings → Network & internet → SIMs → Add SIM (on Samsung: Settings → Connections → SIM manager → Add eSIM).
2. Scan the QR code, or choose to enter a code and paste the activation code.
3. Turn the new eSIM on and wait until it shows your operator.

## New phone, or installing again
An activation code can be used once. If you change phone, reset your phone or deleted the eSIM:
1. Open **eSIM and new phone** for the line.
2. Press **Get a new activation code**. The old code stops working.
3. Install the new code as above.

An eSIM can only be downloaded a limited number of times (the page tells you how many are left). Do not delete the eSIM from your old phone until the new one works. If the limit is reached, the page says so: contact us for a new eSIM profile.

## It does not work
- Check that the phone is connected to Wi-Fi and supports eSIM.
- The page shows the installation progress; wait a few minutes and reload it.
- If the line shows no signal after installing, restart the phone and check that the line is active on [My lines](/lines/).""",
        """eSIM 需要在号码的 **eSIM 与换新手机** 页面安装。开始之前，请先将手机连接到 Wi-Fi。

## 找到激活码
1. 打开[我的号码](/lines/)，在号码下方点击 **eSIM 与换新手机**。
2. 在 **扫码安装** 下方可以看到二维码和 **激活码**（点击 **复制** 即可复制）。

请妥善保管激活码：在您安装之前，任何拿到激活码的人都可以把您的号码装到他们的手机上。

## iPhone
1. 如果是 iOS 17.4 或更高版本，请直接在这部 iPhone 上打开 eSIM 页面，点击 **在此 iPhone 上安装**。
2. 其他版本请进入"设置 → 蜂窝网络 → 添加 eSIM → 使用二维码"，扫描另一块屏幕上显示的二维码；也可以点击"手动输入详细信息"，粘贴激活码。
3. 为号码设置标签，按需选择用于蜂窝数据，等待显示运营商名称即可。

## 安卓手机
1. 进入"设置 → 网络和互联网 → SIM 卡 → 添加 SIM 卡"（三星手机：设置 → 连接 → SIM 卡管理器 → 添加 eSIM）。
2. 扫描二维码，或选择输入代码并粘贴激活码。
3. 启用新的 eSIM，等待显示运营商名称即可。

## 换新手机或重新安装
每个激活码只能使用一次。如果您换了手机、重置了手机或删除了 eSIM：
1. 打开该号码的 **eSIM 与换新手机** 页面。
2. 点击 **获取新的激活码**，旧的激活码随即失效。
3. 按上面的步骤安装新的激活码。

每个 eSIM 的下载次数有限（页面会显示剩余次数）。在新手机上安装成功之前，请不要删除旧手机上的 eSIM。如果次数已用完，页面会提示您，请联系我们获取新的 eSIM。

## 安装不成功
- 确认手机已连接 Wi-Fi，并且支持 eSIM。
- 页面会显示安装进度，请等待几分钟后刷新页面。
- 如果安装后没有信号，请重启手机，并在[我的号码](/lines/)中确认号码处于正常状态。""",
    ),
    DemoArticle(
        topics.LINE_STATUS,
        C.LINE_STATUS,
        "grace-suspension-number-kept",
        "Grace period, suspension and how long your number is kept",
        "宽限期、停机以及号码保留多久",
        """Each line shows its status on [My lines](/lines/). If a plan ends without being renewed, the line goes through these steps. The days below are the usual ones; your operator may use others.

## Active
Your plan is running: calls, texts and data work until **Valid until**.

## Grace period (7 days after the plan ends)
You can still **receive** calls and texts, but you cannot use data or make calls. Renew now and everything works again at once.

## Suspended (the next 60 days)
The line does not work, but the number is still yours. Renew to bring it back.

## Deactivated (the next 15 days)
The line is switched off. For these 15 days you can still renew and keep your number.

## Number being released
After that the number is no longer yours. It is held for at least 45 days (usually 60) and then may be given to someone else. It cannot be renewed any more.

## In short
With the usual settings, your number is kept for about **82 days after your plan ends** (7 + 60 + 15). Renewing at any time in these days brings the line back to active, and the new period starts on the day you pay: you are not charged for the days the line was off.

## Keeping your number for less
If you will not use the line for a while, a "keep my number" plan keeps the number without calls or data (status **Number kept**), when your operator offers one. Auto-renew can also switch to the cheapest such plan when your usual plan cannot be paid.

We send reminders before your plan ends and when the grace period is about to end, so you have time to act.""",
        """每个号码的状态都显示在[我的号码](/lines/)中。如果套餐到期后没有续费，号码会依次经历以下阶段。下面的天数为通常设置，您的运营商可能有所不同。

## 正常使用
套餐有效期内，通话、短信和数据都可以正常使用，直到 **有效期至** 显示的时间。

## 宽限期（套餐到期后 7 天）
您仍然可以 **接听** 电话和 **接收** 短信，但不能使用数据或拨打电话。此时续费，所有服务会立即恢复。

## 已停机（随后 60 天）
号码无法使用，但仍然属于您。续费即可恢复。

## 预销户（随后 15 天）
号码已关闭。在这 15 天内，您仍然可以续费并保留号码。

## 号码回收中
此后号码不再属于您。号码会被保留至少 45 天（通常为 60 天），之后可能分配给其他人，无法再续费。

## 简而言之
按通常设置，号码在 **套餐到期后约 82 天内**（7 + 60 + 15）会为您保留。在此期间任何时候续费，号码都会恢复正常，新周期从付款当天开始，到期后中断服务的天数不收费。

## 低成本保号
如果您一段时间内不使用这个号码，而运营商提供"保号套餐"，可以用它保留号码（不含通话和数据，状态显示为 **保号中**）。当常用套餐无法扣款时，自动续费也可以改用最便宜的保号套餐。

我们会在套餐到期前以及宽限期即将结束时提醒您，让您有足够的时间处理。""",
    ),
    DemoArticle(
        topics.REFILL_PINS,
        C.REFILL_PINS,
        "refill-pins",
        "How refill PINs work",
        "充值卡如何使用",
        """A refill PIN is the code on a refill card bought in a shop. Redeeming it adds its value to your wallet, which you can then use to renew.

## Redeem a PIN
1. Log in and open your [Wallet](/wallet/).
2. Press **Redeem a refill PIN**.
3. Type the PIN exactly as printed on the card.
4. To top up someone else, fill in **Top up another number (optional)** with their phone number. Leave it empty to add the value to your own wallet.
5. Press **Redeem**.

The value appears in the wallet at once, in the card's currency.

## Use the value
On the renew page, choose your wallet under **How to pay**, or **Wallet first, the rest by card** if the wallet does not cover the whole price. Auto-renew also pays from the wallet first when **Pay from my wallet first** is ticked.

## Good to know
- Each PIN can be used only once.
- A PIN has an expiry date (usually 90 days after it was issued). An expired PIN cannot be redeemed.
- A PIN is for one currency and only works for numbers in that currency.
- After 5 wrong PINs within an hour, redeeming is blocked for an hour, to stop guessing.
- If the page says the PIN was cancelled, go back to the shop that sold it.

Keep the card until the value shows in your wallet, and never share a PIN you have not redeemed yet.""",
        """充值卡密码是在门店购买的充值卡上印的密码。兑换后，面值会存入您的钱包，可用于续费。

## 兑换充值卡
1. 登录后打开[钱包](/wallet/)。
2. 点击 **兑换充值卡**。
3. 按卡上印的内容准确输入充值卡密码。
4. 如果要为别人充值，请在 **为其他号码充值（可选）** 中填写对方的手机号码；留空则存入您自己的钱包。
5. 点击 **兑换**。

面值会立即以充值卡的币种存入钱包。

## 使用余额
在续费页面的 **支付方式** 中选择钱包支付；如果钱包余额不足，可以选择 **先用钱包，余额不足部分用银行卡**。如果勾选了 **优先使用钱包余额支付**，自动续费也会优先从钱包扣款。

## 注意事项
- 每张充值卡只能使用一次。
- 充值卡有有效期（通常为发卡后 90 天），过期后无法兑换。
- 充值卡只对应一种币种，只能用于该币种的号码。
- 一小时内输错 5 次，兑换功能会锁定一小时，以防密码被猜测。
- 如果页面提示充值卡已作废，请联系售卡门店。

在余额到账之前请保留好充值卡，也不要把尚未兑换的密码告诉他人。""",
    ),
    DemoArticle(
        topics.PASSWORD_RESET,
        C.ACCOUNT,
        "reset-password",
        "How to reset your password",
        "如何重置密码",
        """If you forgot your password, you can choose a new one with a link we email you.

## Reset it
1. Open the [Log in](/accounts/login/) page and press **Forgot your password?**, or go straight to [Password Reset](/accounts/password/reset/).
2. Enter the email address of your account and press **Reset My Password**.
3. Open the email from us and follow the link in it. **The link works for 1 hour and only once.**
4. Type your new password twice and confirm.
5. Log in with the new password.

## No email arrived?
- Wait a few minutes and check your spam or junk folder.
- Check that you typed the address you registered with. For your privacy, the page looks the same whether or not an account uses that address.
- If the link has expired or was already used, start again from step 1.

## Registered with a phone number?
On the log in page you can also ask for a sign-in code (**Send me a sign-in code**) and log in with the code we send. Once logged in, set a new password in your account settings.

## Keep your account safe
Use a password you do not use anywhere else. If you think someone else knows your password, change it straight away.""",
        """如果您忘记了密码，可以通过我们发送到您邮箱的链接设置新密码。

## 重置密码
1. 打开[登录](/accounts/login/)页面并点击 **忘记密码？**，或直接打开[密码重置](/accounts/password/reset/)页面。
2. 输入账户的电子邮箱地址，点击 **重置我的密码**。
3. 打开我们发送的邮件，点击其中的链接。**链接 1 小时内有效，且只能使用一次。**
4. 输入两次新密码并确认。
5. 使用新密码登录。

## 没有收到邮件？
- 请等待几分钟，并检查垃圾邮件文件夹。
- 请确认输入的是注册时使用的邮箱地址。为保护隐私，无论该邮箱是否已注册，页面显示的内容都相同。
- 如果链接已过期或已被使用，请从第 1 步重新开始。

## 使用手机号码注册？
您也可以在登录页面申请登录验证码（**发送登录代码给我**），用收到的验证码登录，然后在账户设置中设置新密码。

## 保护账户安全
请使用在其他地方没有用过的密码。如果您怀疑密码已被他人知道，请立即修改。""",
    ),
    DemoArticle(
        topics.SITE_NOT_LOADING,
        C.ACCOUNT,
        "site-not-loading",
        "The site is not loading",
        "网站无法打开",
        """If pages do not open or stop half way, try these steps in order.

## Check your connection
- Open another website. If nothing opens, the problem is your connection.
- If your plan has ended, mobile data does not work during the grace period: connect to **Wi-Fi** and renew.
- Switch between Wi-Fi and mobile data, or turn flight mode on and off again.

## Check your browser
1. Reload the page.
2. Open the site in a private window, or in another browser.
3. Turn off VPNs, proxies and content blockers for this site, then try again.
4. Clear this site's cookies and cached files, then log in again.
5. Check that your phone's date and time are set automatically: a wrong clock can make secure pages fail.

## Still not working?
- Wait a few minutes and try again: the service may be busy or being updated.
- Write down what you see (any error message and the time) to tell us.

## Was I charged?
If the page stopped while you were paying, do not pay again straight away. Open [Orders](/orders/) once the site works: a payment is never taken twice for the same order, and an unfinished payment is checked with your bank and shown there.""",
        """如果页面打不开或加载到一半停止，请按顺序尝试以下步骤。

## 检查网络连接
- 打开其他网站试试。如果都打不开，说明是网络连接的问题。
- 如果您的套餐已到期，宽限期内无法使用移动数据：请连接 **Wi-Fi** 后续费。
- 在 Wi-Fi 和移动数据之间切换，或打开再关闭飞行模式。

## 检查浏览器
1. 刷新页面。
2. 在无痕（隐私）窗口或其他浏览器中打开本网站。
3. 对本网站关闭 VPN、代理和广告拦截插件后重试。
4. 清除本网站的 Cookie 和缓存后重新登录。
5. 确认手机的日期和时间设置为自动：时间不准确会导致安全网页无法打开。

## 仍然无法打开？
- 请等待几分钟后重试：服务可能正忙或正在更新。
- 记下您看到的内容（错误提示和时间），以便告诉我们。

## 我被扣款了吗？
如果付款过程中页面中断，请不要马上再次付款。网站恢复后请打开[订单](/orders/)查看：同一订单绝不会重复扣款，未完成的付款会与银行核对后显示在那里。""",
    ),
    DemoArticle(
        topics.PAGE_NOT_FOUND,
        C.ACCOUNT,
        "page-not-found",
        "The page was not found",
        "找不到页面",
        """"Page not found" means there is nothing at this address for you. Usually one of these is the reason:

- **The address is mistyped or cut off.** If you copied it from an email or a message, copy the whole link again.
- **The link is old.** Pages such as an order or an eSIM code can be replaced; start again from [My lines](/lines/) or [Orders](/orders/).
- **It belongs to another account.** A number, order or receipt is shown only to the account that owns it. If you have more than one account, log out and log in with the other one.
- **A help article was moved.** Search the [help centre](/help/) for what you need.

From [My lines](/lines/) you can reach everything about your numbers: renewing, auto-renew, your eSIM, your wallet and your orders.""",
        """"找不到页面"表示这个地址下没有您可以查看的内容。通常是以下原因之一：

- **地址输入有误或不完整。** 如果是从邮件或消息中复制的，请重新复制完整的链接。
- **链接已过期。** 订单、eSIM 激活码等页面可能已被更新，请从[我的号码](/lines/)或[订单](/orders/)重新进入。
- **内容属于其他账户。** 号码、订单和收据只对其所属账户显示。如果您有多个账户，请退出后用另一个账户登录。
- **帮助文章已移动。** 请在[帮助中心](/help/)搜索您需要的内容。

在[我的号码](/lines/)中可以找到与您号码相关的所有功能：续费、自动续费、eSIM、钱包和订单。""",
    ),
    DemoArticle(
        topics.ACCESS_DENIED,
        C.ACCOUNT,
        "access-denied",
        "You do not have access to this page",
        "您无权访问此页面",
        """"Access denied" means you are logged in, but this page is not for your account.

## Common reasons
- **You are logged in with another account.** Log out, then [log in](/accounts/login/) with the account that owns the number.
- **The page is for staff or shops.** The back office and the shop counter are only for the operator's staff and agents. Customers manage everything from [My lines](/lines/).
- **A form expired.** If you left a page open for a long time, or logged in again in another tab, reload the page and send the form again.
- **Cookies are blocked.** The site needs cookies to keep you logged in and to protect your forms. Allow cookies for this site and try again.

## Staff and agents
Staff and shop agents must also confirm their login with their authenticator app. If you are staff and still see this page, your role does not include this task: ask an administrator.""",
        """"拒绝访问"表示您已登录，但此页面不对您的账户开放。

## 常见原因
- **您登录的是另一个账户。** 请退出登录，再用拥有该号码的账户[登录](/accounts/login/)。
- **该页面仅供工作人员或门店使用。** 管理后台和门店柜台只对运营商的工作人员和代理开放。用户可以在[我的号码](/lines/)中管理所有功能。
- **表单已过期。** 如果页面打开了很长时间，或在其他标签页中重新登录过，请刷新页面后重新提交表单。
- **Cookie 被禁用。** 本网站需要 Cookie 来保持登录状态并保护您提交的表单。请允许本网站使用 Cookie 后重试。

## 工作人员和代理
工作人员和门店代理登录时还需要通过身份验证器 App 进行确认。如果您是工作人员但仍看到此页面，说明您的角色不包含此项操作，请联系管理员。""",
    ),
)


def articles_seed() -> int:
    """Create and publish the demo article of every topic that has no every-market article yet
    (in any state: one staff took offline is not put back). Safe to run again: returns how many
    were created, 0 the second time."""
    created = 0
    for demo in ARTICLES:
        with transaction.atomic():
            if Article.objects.filter(topic=demo.topic, market__isnull=True).exists():
                continue
            slug = "" if Article.objects.filter(slug=demo.slug).exists() else demo.slug
            article = services.article_create(
                values={
                    "topic": demo.topic,
                    "market": None,
                    "category": demo.category,
                    "slug": slug,
                    "title_en": demo.title_en,
                    "title_zh_hans": demo.title_zh_hans,
                    "body_en": demo.body_en,
                    "body_zh_hans": demo.body_zh_hans,
                },
                actor=None,
            )
            services.article_publish(article=article, actor=None)
            created += 1
    return created
